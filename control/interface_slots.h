#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "dataplane/interface_table.h"

namespace sgate::control {

// Gives every interface a published table knows a slot
// (dataplane/interface_table.h) that stays its own across reloads, since
// table ids are renumbered with each generation. What the workers count
// per slot (tracked flows for the caps, drops, flow-log losses) and what
// each flow remembers of its interface thus survive any reload.
//
// An interface that leaves the policy keeps its slot while its flows live
// (they still count, and it gets it back if it returns); the slot goes to
// another interface only once no flow holds it and the flow-log writer has
// written every record that could name it, and what the workers counted
// for it is zeroed first. Control thread only.
class InterfaceSlots {
 public:
  // What a slot is still in use by, asked of the running program.
  struct Hooks {
    // Flows the slot's interface has now, over every worker.
    std::function<uint64_t(uint16_t slot)> flows;
    // The flow-log writer's progress (mark) and whether every record taken
    // before a mark has been written (written_since).
    std::function<uint64_t()> mark;
    std::function<bool(uint64_t mark)> written_since;
    // Zeroes what the workers and the writer keep for a slot.
    std::function<void(uint16_t slot)> reset;
  };

  InterfaceSlots();
  void set_hooks(Hooks hooks) { hooks_ = std::move(hooks); }

  // The slots of `names` (a new table's interfaces, by id), giving one to
  // each name that has none. An error when none is left.
  absl::StatusOr<std::vector<uint16_t>> Assign(
      const std::vector<std::string>& names);
  // The table Assign was for is live: the names it lacks are retired.
  void Commit();
  // It was refused: the slots Assign handed out are free again.
  void Rollback();

  struct Slot {
    uint16_t slot;
    std::string name;
    bool live;  // the live table has it; else retired, with flows left
  };
  // Every slot in use, in slot order.
  std::vector<Slot> InUse() const;
  // A slot in use: its interface's name, and a number that is new each
  // time the slot is given to an interface (the flow-log writer tells
  // records of an interface from those of a later owner of its slot).
  const std::string& NameOf(uint16_t slot) const { return slots_[slot].name; }
  uint64_t SerialOf(uint16_t slot) const { return slots_[slot].serial; }

 private:
  enum class State : uint8_t { kFree, kPending, kLive, kRetired };
  struct Entry {
    State state = State::kFree;
    std::string name;
    uint64_t serial = 0;
    uint64_t retired_mark = 0;
  };
  // A free slot, or a retired one nothing refers to (reset), or kNoSlot.
  uint16_t TakeFreeSlot();

  Hooks hooks_;
  std::vector<Entry> slots_;            // kMaxInterfaceSlots
  std::map<std::string, uint16_t> by_name_;  // pending, live and retired
  std::vector<uint16_t> assigned_;      // the last Assign's answer
  std::vector<uint16_t> taken_;         // slots the last Assign took
  std::vector<uint16_t> free_;          // given back by a Rollback
  uint32_t used_ = 0;                   // slots ever taken, from 0 up
  uint64_t next_serial_ = 1;
};

}  // namespace sgate::control
