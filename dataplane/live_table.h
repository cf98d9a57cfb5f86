#pragma once

#include "dataplane/compiled_table.h"
#include "dataplane/policy_table.h"

namespace sgate::dataplane {

// The PolicyTable the sgate program publishes to its workers. control/
// names only this alias and the PolicyTable interface, so a new classifier
// is swapped in here without touching control/. Besides the interface, the
// program needs `Options` (how to build it) and
//   static absl::StatusOr<std::unique_ptr<LiveTable>> Build(
//       rules::Policy, uint32_t generation, uint32_t workers, const Options&,
//       const LiveTable* previous);
// (`previous`: the live table the new one replaces, whose parts it may
// share; it stays alive until the new one is published and the grace
// period is over) and `stats()` (rules::RuleTableStats, for the reload
// log).
using LiveTable = CompiledTable;
static_assert(PolicyTable<LiveTable>);

}  // namespace sgate::dataplane
