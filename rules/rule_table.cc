#include "rules/rule_table.h"

#include <rte_acl.h>
#include <rte_byteorder.h>
#include <rte_errno.h>
#include <rte_prefetch.h>
#include <rte_malloc.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "rules/status_macros.h"

namespace sgate::rules {
namespace {

// The per-key ACL input, built on the stack for each burst, in network
// byte order (rules are given in host order). A packet gets one key per
// rte_acl lane of its interface (rules/README.md): the keys differ only in
// the lane word. rte_acl reads the first field as one byte and every later
// "input index" as a 4-byte word, one trie transition per byte, so the
// classify cost is nearly proportional to the bytes consumed (1 + 4 per
// input index); fields sharing an input index must fill its 4 bytes (a
// lone 2-byte field silently never matches).
//
// Field order: rte_acl builds its tries in field order. With one rte_acl
// lane in a context, the remote address comes right after the protocol and
// the lane word after it: prefixes before port ranges build much faster
// and smaller (10,000 ClassBench-style rules in one lane: 167 ms, 5.7 MiB,
// 68 cycles to classify, against 1,047 ms, 75 MiB and 109 cycles the other
// way). With several, the lane word comes first, splitting the trie into a
// subtrie per lane (kLaneFirstLanes).
//
// Two layouts, chosen per table:
//   narrow: the lane word holds lane << R | reference mask (2 bytes: R
//     bits of mask, the rest the lane id) and the port field (2 bytes);
//     9 transitions per IPv4 key, 21 per IPv6 one;
//   wide: the lane word holds the lane id (2) and the port field (2), and
//     the reference mask has a word of its own (32 bits): 13 / 25. Taken
//     when the lane ids and masks do not fit 16 bits.
struct AclKey4 {
  uint8_t protocol;  // input 0
  uint8_t pad0[3];
  uint32_t lane_port;   // input 1
  uint32_t references;  // wide: input 2
  uint32_t remote;      // the next input
};
static_assert(sizeof(AclKey4) == 16);

struct AclKey6 {
  uint8_t protocol;  // input 0
  uint8_t pad0[3];
  uint32_t lane_port;    // input 1
  uint32_t references;   // wide: input 2
  uint8_t remote[16];    // the next four inputs
};
static_assert(sizeof(AclKey6) == 28);

// protocol, remote (1 or 4 words), lane, port, references (wide only).
constexpr uint32_t kFields4 = 5;
constexpr uint32_t kFields6 = 8;
RTE_ACL_RULE_DEF(AclRule4, kFields4);
RTE_ACL_RULE_DEF(AclRule6, kFields6);

// Field index of each logical field in one layout.
struct AclFields {
  uint8_t protocol = 0;
  uint8_t remote = 1;  // IPv6: four 32-bit words, remote .. remote + 3
  uint8_t remote_words = 1;
  uint8_t lane = 0;
  uint8_t port = 0;
  uint8_t references = 0;  // wide only
  bool wide = false;
};

template <Family kFamily>
struct AclLayout;

template <>
struct AclLayout<Family::kIPv4> {
  using Key = AclKey4;
  using Rule = AclRule4;
};
template <>
struct AclLayout<Family::kIPv6> {
  using Key = AclKey6;
  using Rule = AclRule6;
};

rte_acl_field_def Def(uint8_t type, uint8_t size, uint8_t field,
                      uint8_t input, uint32_t offset) {
  rte_acl_field_def d{};
  d.type = type;
  d.size = size;
  d.field_index = field;
  d.input_index = input;
  d.offset = offset;
  return d;
}

// Fills config.defs / num_fields and says where each field went.
AclFields FieldDefs(Family family, bool wide, bool lane_first,
                    rte_acl_config& config) {
  const bool v4 = family == Family::kIPv4;
  AclFields f;
  f.wide = wide;
  f.remote_words = v4 ? 1 : 4;
  config.num_fields = 3 + (wide ? 1 : 0) + f.remote_words;
  const uint32_t lane_offset =
      v4 ? offsetof(AclKey4, lane_port) : offsetof(AclKey6, lane_port);
  const uint32_t references_offset =
      v4 ? offsetof(AclKey4, references) : offsetof(AclKey6, references);
  const uint32_t remote_offset =
      v4 ? offsetof(AclKey4, remote) : offsetof(AclKey6, remote);
  config.defs[f.protocol] =
      Def(RTE_ACL_FIELD_TYPE_BITMASK, 1, f.protocol, 0, 0);
  uint8_t field = 1;
  uint8_t input = 1;
  auto remote = [&] {
    f.remote = field;
    for (uint8_t w = 0; w < f.remote_words; ++w, ++field) {
      config.defs[field] = Def(RTE_ACL_FIELD_TYPE_MASK, 4, field, input++,
                               remote_offset + 4 * w);
    }
  };
  if (!lane_first) remote();
  // The lane (narrow: and the reference mask) is exact up to the mask's
  // bits: a bitmask field.
  f.lane = field++;
  config.defs[f.lane] =
      Def(RTE_ACL_FIELD_TYPE_BITMASK, 2, f.lane, input, lane_offset);
  f.port = field++;
  config.defs[f.port] =
      Def(RTE_ACL_FIELD_TYPE_RANGE, 2, f.port, input++, lane_offset + 2);
  if (wide) {
    f.references = field++;
    config.defs[f.references] = Def(RTE_ACL_FIELD_TYPE_BITMASK, 4,
                                    f.references, input++, references_offset);
  }
  if (lane_first) remote();
  return f;
}

// Sets one rule field of `size` bytes (rte_acl reads the union member of
// the field's size).
void SetField(rte_acl_field& field, uint8_t size, uint32_t value,
              uint32_t mask_range) {
  switch (size) {
    case 1:
      field.value.u8 = static_cast<uint8_t>(value);
      field.mask_range.u8 = static_cast<uint8_t>(mask_range);
      break;
    case 2:
      field.value.u16 = static_cast<uint16_t>(value);
      field.mask_range.u16 = static_cast<uint16_t>(mask_range);
      break;
    default:
      field.value.u32 = value;
      field.mask_range.u32 = mask_range;
      break;
  }
}

uint32_t Word(const IpAddress& a, int w) {
  return static_cast<uint32_t>(a.bytes[4 * w]) << 24 |
         static_cast<uint32_t>(a.bytes[4 * w + 1]) << 16 |
         static_cast<uint32_t>(a.bytes[4 * w + 2]) << 8 | a.bytes[4 * w + 3];
}

// The scan's SIMD width for an rte_acl method: the same instruction set
// (tests force each), or the widest allowed for auto.
LaneScan::Simd ScanSimd(AclMethod method) {
  switch (method) {
    case AclMethod::kScalar:
      return LaneScan::Simd::kScalar;
    case AclMethod::kSse:
    case AclMethod::kAvx2:
      return LaneScan::WidestSimd(LaneScan::Simd::kAvx2);
    case AclMethod::kAuto:
    case AclMethod::kAvx512x16:
    case AclMethod::kAvx512x32:
      break;
  }
  return LaneScan::WidestSimd(LaneScan::Simd::kAvx512);
}

// Open rules × other rules of the rte_acl lanes beyond which the open
// rules get a context of their own (BuildContext): rte_acl's trie merge
// copies each open rule under every other rule's remote prefix. Below this
// the build takes tens of milliseconds at most, and one rte_acl call per
// burst is cheaper than two.
constexpr uint64_t kSplitOpenRules = 1u << 18;

// rte_acl lanes of one context from which the lane word goes before the
// remote address (FieldDefs): with one lane, prefixes before ports build
// and classify far better; with several, splitting the trie by lane first
// classifies better (perf/gen's new-flows, 10 lanes of 500 rules: 397 vs
// 455 cycles per new flow in the enforcer benchmark) for twice the build
// (213 vs 107 ms, 18 vs 4 MiB).
constexpr uint32_t kLaneFirstLanes = 2;

// A narrow key's reference mask holds at most this many bits, so that the
// per-class table of masks (RuleTable::masks8_) has one byte per slot (a
// quarter of the address side's memory at vpc-15k: 1,300 classes × 800
// slots).
constexpr uint32_t kNarrowReferenceBits = 8;

// One ACL rule (host byte order, as rte_acl wants).
template <typename AclRule>
void FillRule(const MatchEntry& e, const AclFields& f, uint32_t reference_bits,
              AclRule& r) {
  r.data.category_mask = 1;
  // Every match allows (or, for a rule with domains, admits pending a
  // name). Within a key rte_acl reports the highest priority, ranked as
  // MatchEntry::result() ranks across keys: open rules, then rules that
  // allow outright, then rules with domains.
  r.data.priority = RTE_ACL_MIN_PRIORITY + 2 - e.rank();
  r.data.userdata = e.result();
  if (e.protocol == kProtocolAll) {
    SetField(r.field[f.protocol], 1, 0, 0);
  } else {
    SetField(r.field[f.protocol], 1, static_cast<uint8_t>(e.protocol), 0xff);
  }
  const uint32_t bit = e.by_reference() ? 1u << e.reference_bit : 0;
  if (f.wide) {
    SetField(r.field[f.lane], 2, e.lane, 0xffff);
    SetField(r.field[f.references], 4, bit, bit);
  } else {
    // The lane's bits exactly, and the entry's reference bit if any; the
    // other mask bits are free (a remote may belong to other groups too).
    const uint32_t lane_mask = (0xffffu << reference_bits) & 0xffff;
    SetField(r.field[f.lane], 2, uint32_t{e.lane} << reference_bits | bit,
             lane_mask | bit);
  }
  SetField(r.field[f.port], 2, e.port_low, e.port_high);
  for (int w = 0; w < f.remote_words; ++w) {
    int bits = std::clamp(e.remote.prefix_length - 32 * w, 0, 32);
    SetField(r.field[f.remote + w], 4, Word(e.remote.address, w),
             static_cast<uint32_t>(bits));
  }
}

enum rte_acl_classify_alg ToAlg(AclMethod m) {
  switch (m) {
    case AclMethod::kAuto:
      return RTE_ACL_CLASSIFY_DEFAULT;
    case AclMethod::kScalar:
      return RTE_ACL_CLASSIFY_SCALAR;
    case AclMethod::kSse:
      return RTE_ACL_CLASSIFY_SSE;
    case AclMethod::kAvx2:
      return RTE_ACL_CLASSIFY_AVX2;
    case AclMethod::kAvx512x16:
      return RTE_ACL_CLASSIFY_AVX512X16;
    case AclMethod::kAvx512x32:
      return RTE_ACL_CLASSIFY_AVX512X32;
  }
  return RTE_ACL_CLASSIFY_DEFAULT;
}

// Bytes allocated from DPDK's heaps, all sockets.
size_t DpdkHeapBytes() {
  size_t total = 0;
  for (unsigned i = 0; i < rte_socket_count(); ++i) {
    rte_malloc_socket_stats s{};
    if (rte_malloc_get_socket_stats(rte_socket_id_by_idx(i), &s) == 0) {
      total += s.heap_allocsz_bytes;
    }
  }
  return total;
}

}  // namespace

// The host tables' hashes: the top bits of a multiplication depend on
// every bit of its operand, and the tables take the top bits.
RuleTable::Host4Slot RuleTable::Host4Slot::Of(const IpAddress& a) {
  return {Word(a, 0), 0};
}
uint64_t RuleTable::Host4Slot::Hash() const {
  return address * 0x9E3779B97F4A7C15ull;
}
RuleTable::Host6Slot RuleTable::Host6Slot::Of(const IpAddress& a) {
  Host6Slot slot;
  std::memcpy(&slot.high, a.bytes.data(), 8);
  std::memcpy(&slot.low, a.bytes.data() + 8, 8);
  return slot;
}
uint64_t RuleTable::Host6Slot::Hash() const {
  return (high * 0x9E3779B97F4A7C15ull ^ low) * 0xC2B2AE3D27D4EB4Full;
}

template <typename Slot>
void RuleTable::HostTable<Slot>::Reset(size_t count) {
  // At most half full: probes stay short (one, mostly).
  const size_t size = std::max<size_t>(16, std::bit_ceil(2 * count));
  slots_.assign(size, Slot{});
  shift_ = 64 - std::countr_zero(size);
}

template <typename Slot>
void RuleTable::HostTable<Slot>::Insert(const IpAddress& address,
                                        uint32_t next_hop) {
  Slot slot = Slot::Of(address);
  slot.next_hop = next_hop;
  const size_t mask = slots_.size() - 1;
  size_t i = slot.Hash() >> shift_;
  while (slots_[i].next_hop != 0) i = (i + 1) & mask;
  slots_[i] = slot;
}

template <typename Slot>
void RuleTable::HostTable<Slot>::Lookup(const PacketKey* keys,
                                        const uint8_t* index, uint32_t n,
                                        bool remote_too,
                                        uint64_t* hops) const {
  const uint32_t lookups = remote_too ? 2 * n : n;
  if (slots_.empty()) {
    std::fill_n(hops, lookups, 0);
    return;
  }
  const Slot* slots = slots_.data();
  const size_t mask = slots_.size() - 1;
  // Hash the burst and prefetch its slots first, then probe: the slots'
  // cache misses overlap instead of queueing one after another.
  Slot wanted[2 * kMaxBurst];
  size_t slot[2 * kMaxBurst];
  auto hash = [&](uint32_t j, const IpAddress& a) {
    wanted[j] = Slot::Of(a);
    slot[j] = wanted[j].Hash() >> shift_;
    rte_prefetch0(&slots[slot[j]]);
  };
  for (uint32_t j = 0; j < n; ++j) hash(j, keys[index[j]].local);
  if (remote_too) {
    for (uint32_t j = 0; j < n; ++j) hash(n + j, keys[index[j]].remote);
  }
  for (uint32_t j = 0; j < lookups; ++j) {
    size_t i = slot[j];
    // The table is at most half full: an empty slot ends every probe.
    while (slots[i].next_hop != 0 && !slots[i].SameAddress(wanted[j])) {
      i = (i + 1) & mask;
    }
    hops[j] = slots[i].next_hop;
  }
}

absl::string_view AclMethodName(AclMethod method) {
  switch (method) {
    case AclMethod::kAuto:
      return "auto";
    case AclMethod::kScalar:
      return "scalar";
    case AclMethod::kSse:
      return "sse";
    case AclMethod::kAvx2:
      return "avx2";
    case AclMethod::kAvx512x16:
      return "avx512x16";
    case AclMethod::kAvx512x32:
      return "avx512x32";
  }
  return "?";
}

std::optional<AclMethod> ParseAclMethod(absl::string_view name) {
  for (AclMethod m : {AclMethod::kAuto, AclMethod::kScalar, AclMethod::kSse,
                      AclMethod::kAvx2, AclMethod::kAvx512x16,
                      AclMethod::kAvx512x32}) {
    if (AclMethodName(m) == name) return m;
  }
  return std::nullopt;
}

// One (family, direction)'s matchers (the scan of its small lanes, the
// rte_acl contexts of its big ones) and the entries they were built from.
// Shared by every table whose entries for it are the same; the last one
// to go frees the rte_acl contexts, after its own RCU grace period.
struct RuleTable::AclContext {
  std::vector<MatchEntry> entries;
  bool wide = false;
  uint32_t reference_bits = 0;
  // Which lanes the scan matches (the others are in rte_acl).
  std::vector<bool> scanned;
  rte_acl_ctx* main = nullptr;
  rte_acl_ctx* open = nullptr;  // the open rules, when apart
  LaneScan scan;
  AclMethod method = AclMethod::kAuto;  // in use
  AclContextStats stats;

  AclContext() = default;
  AclContext(const AclContext&) = delete;
  AclContext& operator=(const AclContext&) = delete;
  ~AclContext() {
    if (main != nullptr) rte_acl_free(main);
    if (open != nullptr) rte_acl_free(open);
  }
};

// The rule side of a table: the groups' lanes, and the contexts.
struct RuleTable::RuleSide {
  // Equal fingerprints (RuleSideFingerprint) and options, equal rule
  // sides. Not shareable: members were expanded into the rules.
  bool shareable = false;
  std::string fingerprint;
  std::string options;  // the RuleTableOptions that shape the contexts
  CompiledRules rules;  // without entries: the contexts hold them
  bool wide = false;
  std::array<std::array<std::shared_ptr<const AclContext>, 2>, 2> contexts;
};

namespace {

// Builds one rte_acl context of `entries` (all of one family).
absl::StatusOr<rte_acl_ctx*> NewAclContext(
    const std::string& name, Family family, bool wide, bool lane_first,
    uint32_t reference_bits, const std::vector<const MatchEntry*>& entries,
    const RuleTableOptions& options, AclMethod& method) {
  rte_acl_config config{};
  config.num_categories = 1;
  const AclFields fields = FieldDefs(family, wide, lane_first, config);
  rte_acl_param param{};
  param.name = name.c_str();
  param.socket_id = options.socket_id;
  // The rules are AclRule4/6 whatever the layout (the narrow one leaves
  // the references field out of config.num_fields).
  param.rule_size =
      RTE_ACL_RULE_SZ(family == Family::kIPv4 ? kFields4 : kFields6);
  param.max_rule_num = static_cast<uint32_t>(entries.size());
  rte_acl_ctx* ctx = rte_acl_create(&param);
  if (ctx == nullptr) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "rte_acl_create(", name, "): ", rte_strerror(rte_errno)));
  }
  auto fail = [ctx](absl::Status status) {
    rte_acl_free(ctx);
    return status;
  };
  auto add = [&](auto rule_tag) -> int {
    using AclRule = decltype(rule_tag);
    std::vector<AclRule> rules(entries.size());
    for (size_t i = 0; i < entries.size(); ++i) {
      FillRule(*entries[i], fields, reference_bits, rules[i]);
    }
    return rte_acl_add_rules(
        ctx, reinterpret_cast<const rte_acl_rule*>(rules.data()),
        static_cast<uint32_t>(rules.size()));
  };
  int rc = family == Family::kIPv4 ? add(AclRule4{}) : add(AclRule6{});
  if (rc != 0) {
    return fail(absl::InternalError(
        absl::StrCat("rte_acl_add_rules(", name, "): ", rte_strerror(-rc))));
  }
  if (rc = rte_acl_build(ctx, &config); rc != 0) {
    return fail(absl::ResourceExhaustedError(
        absl::StrCat("rte_acl_build(", name, "): ", rte_strerror(-rc))));
  }
  if (options.acl_method == AclMethod::kAuto) {
    // Widest first; rte_acl refuses a method the CPU or EAL's max SIMD
    // bitwidth does not allow.
    for (AclMethod m : {AclMethod::kAvx512x32, AclMethod::kAvx512x16,
                        AclMethod::kAvx2, AclMethod::kSse, AclMethod::kScalar}) {
      if (rte_acl_set_ctx_classify(ctx, ToAlg(m)) == 0) {
        method = m;
        break;
      }
    }
  } else {
    if (rc = rte_acl_set_ctx_classify(ctx, ToAlg(options.acl_method));
        rc != 0) {
      return fail(absl::FailedPreconditionError(absl::StrCat(
          "acl method ", AclMethodName(options.acl_method),
          " is not available (CPU, or EAL --force-max-simd-bitwidth): ",
          rte_strerror(-rc))));
    }
    method = options.acl_method;
  }
  return ctx;
}

}  // namespace

uint32_t RuleTableStats::ContextsBuilt() const {
  uint32_t n = 0;
  for (const auto& per_family : acl) {
    for (const AclContextStats& c : per_family) n += c.rules > 0 && !c.reused;
  }
  return n;
}

uint32_t RuleTableStats::ContextsReused() const {
  uint32_t n = 0;
  for (const auto& per_family : acl) {
    for (const AclContextStats& c : per_family) n += c.rules > 0 && c.reused;
  }
  return n;
}

absl::StatusOr<std::unique_ptr<RuleTable>> RuleTable::Build(
    const Policy& policy, const RuleTableOptions& options,
    const RuleTable* previous) {
  using Clock = std::chrono::steady_clock;
  auto seconds_since = [](Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
  };
  const Clock::time_point start = Clock::now();
  std::unique_ptr<RuleTable> table(new RuleTable());
  // Tables coexist during an RCU swap, and DPDK object names are global:
  // each table gets its own prefix.
  static std::atomic<uint32_t> next_id{0};
  table->name_ = absl::StrCat("sg", getpid() % 100000, "-", next_id++);
  RuleTableStats& st = table->stats_;

  // Expanded members make the rule side depend on members: never shared.
  const bool shareable = !options.compile.expand_group_members;
  std::string fingerprint = shareable ? RuleSideFingerprint(policy) : "";
  std::string options_key = absl::StrCat(
      static_cast<int>(options.acl_method), ",", options.socket_id, ",",
      options.force_wide_key, ",", options.force_split_open_rules, ",",
      options.max_reference_bits, ",", options.scan_lane_limit);
  const RuleSide* old = previous != nullptr ? previous->rule_side_.get()
                                            : nullptr;
  if (old != nullptr &&
      !(shareable && old->shareable && old->options == options_key)) {
    old = nullptr;
  }
  if (old != nullptr && old->fingerprint == fingerprint) {
    table->rule_side_ = previous->rule_side_;
    st.rule_side_reused = true;
    for (auto& per_family : st.acl) {
      for (AclContextStats& c : per_family) c.reused = true;
    }
  } else {
    const Clock::time_point rules_start = Clock::now();
    // On an error the destructor frees whatever was created.
    SGATE_RETURN_IF_ERROR(table->BuildRuleSide(policy, options, old,
                                               std::move(fingerprint),
                                               std::move(options_key)));
    st.rules_seconds = seconds_since(rules_start) - st.acl_seconds;  // compile
  }
  const RuleSide& side = *table->rule_side_;
  table->wide_ = side.wide;
  table->reference_shift_ = side.wide ? 0 : side.rules.reference_bits;
  st.wide_acl_key = side.wide;
  st.reference_bits = side.rules.reference_bits;
  st.groups = static_cast<uint32_t>(side.rules.groups.size());
  st.referenced_groups = static_cast<uint32_t>(std::count(
      side.rules.referenced.begin(), side.rules.referenced.end(), true));
  st.mask_slots = side.rules.mask_slots;
  for (int f = 0; f < 2; ++f) {
    for (int d = 0; d < 2; ++d) {
      const AclContext& c = *side.contexts[f][d];
      table->acl_[f][d] = c.main;
      table->acl_open_[f][d] = c.open;
      table->scan_[f][d] = c.stats.scanned_lanes > 0 ? &c.scan : nullptr;
      AclContextStats& cs = st.acl[f][d];
      const bool reused = cs.reused;
      cs = c.stats;
      cs.reused = reused;
      if (reused) cs.build_seconds = 0;
      st.acl_memory_bytes += c.stats.memory_bytes;
      if (c.main != nullptr) st.acl_method = c.method;
      if (c.stats.scanned_lanes > 0) st.scan_simd = c.scan.simd();
    }
  }

  const Clock::time_point addresses_start = Clock::now();
  SGATE_ASSIGN_OR_RETURN(
      CompiledAddresses addresses,
      CompileAddresses(policy, side.rules, options.compile.node));
  st.addresses_seconds = seconds_since(addresses_start);
  const Clock::time_point hosts_start = Clock::now();
  SGATE_RETURN_IF_ERROR(
      table->BuildAddressSide(addresses));
  st.hosts_seconds = seconds_since(hosts_start);
  st.build_seconds = seconds_since(start);
  return table;
}

RuleTable::~RuleTable() = default;

absl::Status RuleTable::BuildRuleSide(const Policy& policy,
                                      const RuleTableOptions& options,
                                      const RuleSide* previous,
                                      std::string fingerprint,
                                      std::string options_key) {
  auto side = std::make_shared<RuleSide>();
  side->shareable = !options.compile.expand_group_members;
  side->fingerprint = std::move(fingerprint);
  side->options = std::move(options_key);
  // The narrow key's 16-bit lane field holds the lane id and R mask bits:
  // R is what twice the groups' ids leave (room for groups that need
  // several lanes), at most 8 (kNarrowReferenceBits); when the lanes still
  // do not fit, the wide key.
  RuleCompileOptions compile;
  compile.expand_group_members = options.compile.expand_group_members;
  const uint32_t lane_bits = std::bit_width(2 * policy.security_groups.size());
  side->wide = options.force_wide_key || lane_bits >= 16;
  compile.reference_bits =
      side->wide ? 32 : std::min(16 - lane_bits, kNarrowReferenceBits);
  if (!side->wide && options.max_reference_bits != 0) {
    compile.reference_bits =
        std::min(compile.reference_bits, options.max_reference_bits);
  }
  SGATE_ASSIGN_OR_RETURN(side->rules, CompileRules(policy, compile));
  if (!side->wide) {
    size_t most = 0;
    for (const auto& per_family : side->rules.lanes) {
      for (const auto& lanes : per_family) most = std::max(most, lanes.size());
    }
    if (most > (0xffffu >> compile.reference_bits)) {
      side->wide = true;
      compile.reference_bits = 32;
      SGATE_ASSIGN_OR_RETURN(side->rules, CompileRules(policy, compile));
    }
  }

  for (Family family : {Family::kIPv4, Family::kIPv6}) {
    for (Direction direction : {Direction::kIngress, Direction::kEgress}) {
      const int f = static_cast<int>(family);
      const int d = static_cast<int>(direction);
      std::vector<MatchEntry>& entries = side->rules.entries[f][d];
      // The previous table's context, if it was built from the same
      // entries in the same layout (`previous` had the same options).
      if (previous != nullptr) {
        const std::shared_ptr<const AclContext>& old = previous->contexts[f][d];
        if (old->wide == side->wide &&
            old->reference_bits == compile.reference_bits &&
            old->entries == entries &&
            old->stats.lanes == side->rules.lanes[f][d].size()) {
          side->contexts[f][d] = old;
          stats_.acl[f][d].reused = true;
          entries.clear();
          continue;
        }
      }
      SGATE_ASSIGN_OR_RETURN(
          side->contexts[f][d],
          BuildContext(family, direction, std::move(entries),
                       static_cast<uint32_t>(side->rules.lanes[f][d].size()),
                       side->wide, compile.reference_bits, options));
      entries.clear();
      stats_.acl_seconds += side->contexts[f][d]->stats.build_seconds;
    }
  }
  rule_side_ = std::move(side);
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const RuleTable::AclContext>>
RuleTable::BuildContext(Family family, Direction direction,
                        std::vector<MatchEntry> entries, uint32_t lanes,
                        bool wide, uint32_t reference_bits,
                        const RuleTableOptions& options) const {
  const auto start = std::chrono::steady_clock::now();
  const size_t heap_before = DpdkHeapBytes();
  auto context = std::make_shared<AclContext>();
  context->wide = wide;
  context->reference_bits = reference_bits;
  context->entries = std::move(entries);
  AclContextStats& cs = context->stats;
  cs.rules = static_cast<uint32_t>(context->entries.size());
  cs.lanes = lanes;

  // Small lanes are scanned (options.scan_lane_limit), the others go to
  // rte_acl.
  std::vector<uint32_t> per_lane(lanes);
  for (const MatchEntry& e : context->entries) ++per_lane[e.lane];
  context->scanned.assign(lanes, false);
  for (uint32_t l = 0; l < lanes; ++l) {
    if (per_lane[l] <= options.scan_lane_limit) {
      context->scanned[l] = true;
      ++cs.scanned_lanes;
      cs.scanned_rules += per_lane[l];
    }
  }
  if (cs.scanned_lanes > 0) {
    context->scan = LaneScan(family, context->entries, context->scanned, lanes,
                             ScanSimd(options.acl_method));
  }

  if (cs.scanned_rules < cs.rules) {
    // Open rules apart when rte_acl would copy them under too many others
    // (kSplitOpenRules).
    std::vector<const MatchEntry*> main;
    std::vector<const MatchEntry*> open;
    for (const MatchEntry& e : context->entries) {
      if (!context->scanned[e.lane]) (e.open() ? open : main).push_back(&e);
    }
    const uint64_t products = uint64_t{open.size()} * main.size();
    const bool split =
        !open.empty() && !main.empty() &&
        (options.force_split_open_rules || products >= kSplitOpenRules);
    if (!split) {
      main.insert(main.end(), open.begin(), open.end());
      open.clear();
    }
    const std::string name =
        absl::StrCat(name_, "-acl", family == Family::kIPv4 ? "4" : "6",
                     direction == Direction::kIngress ? "i" : "e");
    const bool lane_first = lanes - cs.scanned_lanes >= kLaneFirstLanes;
    SGATE_ASSIGN_OR_RETURN(
        context->main, NewAclContext(name, family, wide, lane_first,
                                     reference_bits, main, options,
                                     context->method));
    if (!open.empty()) {
      SGATE_ASSIGN_OR_RETURN(
          context->open, NewAclContext(name + "o", family, wide, lane_first,
                                       reference_bits, open, options,
                                       context->method));
    }
    cs.open_apart = static_cast<uint32_t>(open.size());
  }
  cs.memory_bytes = DpdkHeapBytes() - heap_before + context->scan.memory_bytes();
  cs.build_seconds = std::chrono::duration<double>(
                         std::chrono::steady_clock::now() - start)
                         .count();
  return context;
}

absl::Status RuleTable::BuildAddressSide(const CompiledAddresses& addresses) {
  size_t heap_before = DpdkHeapBytes();
  const CompiledRules& rules = rule_side_->rules;
  unknown_decision_ =
      addresses.unknown_interface == UnknownInterfaceAction::kPass
          ? Decision::kUnknownInterfacePassed
          : Decision::kUnknownInterfaceDropped;
  for (const CompiledInterface& i : addresses.interfaces) {
    interface_names_.push_back(i.name);
  }
  stats_.interfaces = static_cast<uint32_t>(addresses.interfaces.size());
  stats_.member_classes =
      static_cast<uint32_t>(addresses.member_classes.size());

  // Member class c's reference mask for each mask slot: bit k of a slot is
  // set when the class's addresses belong to the k-th group its lane
  // references. Each referenced group knows the (slot, bit)s it sets.
  mask_slots_ = rules.mask_slots;
  struct SlotBit {
    uint32_t slot;
    uint32_t bit;
  };
  std::vector<std::vector<SlotBit>> sets(rules.groups.size());
  std::vector<bool> slot_seen(mask_slots_, false);
  for (const auto& per_family : rules.lanes) {
    for (const std::vector<Lane>& lanes : per_family) {
      for (const Lane& lane : lanes) {
        // Both families' lanes of one group slice share their slot.
        if (lane.mask_slot == 0 || slot_seen[lane.mask_slot]) continue;
        slot_seen[lane.mask_slot] = true;
        for (uint32_t k = 0; k < lane.references.size(); ++k) {
          sets[lane.references[k]].push_back({lane.mask_slot, k});
        }
      }
    }
  }
  std::vector<uint32_t> masks(addresses.member_classes.size() * mask_slots_,
                              0);
  for (size_t c = 0; c < addresses.member_classes.size(); ++c) {
    for (uint32_t group : addresses.member_classes[c]) {
      for (const SlotBit& sb : sets[group]) {
        masks[c * mask_slots_ + sb.slot] |= 1u << sb.bit;
      }
    }
  }
  if (wide_) {
    masks32_ = std::move(masks);
  } else {
    masks8_.assign(masks.begin(), masks.end());
  }
  lookup_remote_ = mask_slots_ > 1 && addresses.member_classes.size() > 1;

  SGATE_RETURN_IF_ERROR(BuildHostTables(addresses));
  stats_.address_memory_bytes =
      DpdkHeapBytes() - heap_before + hosts4_.bytes() + hosts6_.bytes() +
      masks8_.size() + masks32_.size() * sizeof(uint32_t);
  for (int f = 0; f < 2; ++f) {
    stats_.address_memory_bytes +=
        address_info_[f].size() * sizeof(AddressInfo) +
        locals_[f].size() * sizeof(Local) +
        lane_keys_[f].size() * sizeof(LaneKey);
  }
  return absl::OkStatus();
}

absl::Status RuleTable::BuildHostTables(const CompiledAddresses& addresses) {
  const CompiledRules& rules = rule_side_->rules;
  // Every address the dataplane looks up: local addresses of enforced
  // interfaces (→ interface per VLAN, and its lanes) and members of
  // referenced groups (→ member class). One host table per family serves
  // both.
  struct Pending {
    std::vector<Local> locals;
    uint32_t member_class = 0;
  };
  std::array<std::map<IpAddress, Pending>, 2> pending;
  std::array<std::array<uint64_t, 2>, 2> lanes_total{};
  std::array<uint32_t, 2> interfaces_of_family{};
  for (uint32_t i = 0; i < addresses.interfaces.size(); ++i) {
    const CompiledInterface& ci = addresses.interfaces[i];
    const uint32_t vlan_key = ci.vlan.has_value() ? *ci.vlan : kUntagged;
    // The interface's lanes in each family and direction: one key each
    // for its packets.
    std::array<Local, 2> local{};
    for (int f = 0; f < 2; ++f) {
      local[f].vlan_key = vlan_key;
      local[f].interface = i;
      for (int d = 0; d < 2; ++d) {
        local[f].first_lane[d] = static_cast<uint32_t>(lane_keys_[f].size());
        for (uint32_t group : ci.groups) {
          const LaneRange& range = rules.lanes_of_group[f][d][group];
          const std::vector<bool>& scanned =
              rule_side_->contexts[f][d]->scanned;
          for (uint32_t l = range.first; l < range.first + range.count; ++l) {
            lane_keys_[f].push_back({l << reference_shift_,
                                     rules.lanes[f][d][l].mask_slot, l,
                                     static_cast<bool>(scanned[l])});
          }
        }
        local[f].lane_count[d] =
            static_cast<uint32_t>(lane_keys_[f].size()) - local[f].first_lane[d];
      }
    }
    std::array<bool, 2> has_family{};
    for (const IpAddress& a : ci.addresses) {
      const int f = static_cast<int>(a.family);
      has_family[f] = true;
      std::vector<Local>& locals = pending[f][a].locals;
      // An address belongs to one interface per VLAN; should a policy that
      // was not validated repeat one, the first interface wins, as in the
      // reference.
      bool dup = std::any_of(locals.begin(), locals.end(), [&](const Local& l) {
        return l.vlan_key == vlan_key;
      });
      if (!dup) locals.push_back(local[f]);
    }
    for (int f = 0; f < 2; ++f) {
      if (!has_family[f]) continue;
      ++interfaces_of_family[f];
      for (int d = 0; d < 2; ++d) lanes_total[f][d] += local[f].lane_count[d];
    }
  }
  for (int f = 0; f < 2; ++f) {
    for (int d = 0; d < 2; ++d) {
      stats_.lanes_per_interface[f][d] =
          interfaces_of_family[f] == 0
              ? 0
              : static_cast<double>(lanes_total[f][d]) / interfaces_of_family[f];
    }
  }
  if (lookup_remote_) {
    for (const MemberAddress& m : addresses.members) {
      pending[static_cast<int>(m.address.family)][m.address].member_class =
          m.member_class;
    }
  }

  for (int f = 0; f < 2; ++f) {
    // Next hop 0 (no route) is entry 0: no local, the empty class, so the
    // classify loop indexes by next hop without testing it.
    address_info_[f].push_back(AddressInfo{});
    for (const auto& [address, p] : pending[f]) {
      AddressInfo info;
      info.first_local = static_cast<uint32_t>(locals_[f].size());
      info.local_count = static_cast<uint32_t>(p.locals.size());
      info.member_class = p.member_class;
      locals_[f].insert(locals_[f].end(), p.locals.begin(), p.locals.end());
      address_info_[f].push_back(info);
    }
    stats_.host_addresses[f] = static_cast<uint32_t>(pending[f].size());
  }

  // Every route is a host route (/32, /128): exact-match tables, whose
  // next hop n is the address's place in `pending` plus one.
  auto fill = [](auto& table, const auto& addresses) {
    if (addresses.empty()) return;
    table.Reset(addresses.size());
    uint32_t next_hop = 1;
    for (const auto& [a, p] : addresses) table.Insert(a, next_hop++);
  };
  fill(hosts4_, pending[0]);
  fill(hosts6_, pending[1]);
  return absl::OkStatus();
}

template <Family kFamily, bool kWide>
void RuleTable::ClassifyFamily(const PacketKey* keys, const uint8_t* index,
                               uint32_t n, Classification* out) const {
  using Key = typename AclLayout<kFamily>::Key;
  constexpr int f = static_cast<int>(kFamily);
  const bool lookup_remote = lookup_remote_;

  // Local addresses in [0, n), remote ones (when rules reference groups)
  // in [n, 2n).
  uint64_t hops[2 * kMaxBurst];
  if constexpr (kFamily == Family::kIPv4) {
    hosts4_.Lookup(keys, index, n, lookup_remote, hops);
  } else {
    hosts6_.Lookup(keys, index, n, lookup_remote, hops);
  }

  const AddressInfo* info = address_info_[f].data();
  const Local* locals = locals_[f].data();
  const LaneKey* lanes = lane_keys_[f].data();
  // Narrow keys' masks have at most kNarrowReferenceBits bits.
  const auto* masks = [this] {
    if constexpr (kWide) {
      return masks32_.data();
    } else {
      return masks8_.data();
    }
  }();
  // One key per rte_acl lane of each packet's interface; every key of a
  // direction goes to one rte_acl call. The scanned lanes are listed (and
  // their first block prefetched) while the keys are built, and scanned
  // after the rte_acl calls, skipping packets an open rule already
  // allows. The best result of a packet's lanes decides
  // (MatchEntry::result(): an open rule wins, a rule with domains loses).
  constexpr uint32_t kMaxKeys = 256;
  Key acl_keys[kMaxKeys];
  const uint8_t* data[2][kMaxKeys];
  uint8_t owner[2][kMaxKeys];
  uint32_t count[2] = {0, 0};
  struct ScanJob {
    uint32_t packet;  // j
    uint32_t lane;
    uint32_t references;
  };
  ScanJob scans[kMaxKeys];
  LaneScan::Query queries[kMaxBurst];  // by j, for packets with scans
  uint32_t scan_count = 0;
  uint32_t used = 0;
  uint32_t best[kMaxBurst];
  auto flush = [&] {
    for (int d = 0; d < 2; ++d) {
      if (count[d] == 0) continue;
      uint32_t results[kMaxKeys];
      for (rte_acl_ctx* ctx : {acl_[f][d], acl_open_[f][d]}) {
        if (ctx == nullptr) continue;
        rte_acl_classify(ctx, data[d], results, count[d], 1);
        for (uint32_t t = 0; t < count[d]; ++t) {
          best[owner[d][t]] = std::max(best[owner[d][t]], results[t]);
        }
      }
      count[d] = 0;
    }
    for (uint32_t t = 0; t < scan_count; ++t) {
      const ScanJob& job = scans[t];
      if (best[job.packet] & kOpenResult) continue;  // nothing beats it
      const int d = static_cast<int>(keys[index[job.packet]].direction);
      const uint32_t result = scan_[f][d]->Scan(
          job.lane, queries[job.packet], job.references);
      best[job.packet] = std::max(best[job.packet], result);
    }
    scan_count = 0;
    used = 0;
  };
  // Stage 1: each packet's interface (none: unknown) and its remote's row
  // of reference masks; start loading the interface's lanes, which stage
  // 2 reads.
  const Local* local_of[kMaxBurst];
  for (uint32_t j = 0; j < n; ++j) {
    const PacketKey& k = keys[index[j]];
    // Next hop 0 is the empty entry 0 (BuildHostTables): no test needed.
    const AddressInfo& a = info[hops[j]];
    const uint32_t vlan_key = k.vlan.has_value() ? *k.vlan : kUntagged;
    const Local* local = nullptr;
    for (uint32_t l = a.first_local; l < a.first_local + a.local_count; ++l) {
      if (locals[l].vlan_key == vlan_key) {
        local = &locals[l];
        break;
      }
    }
    local_of[j] = local;
    best[j] = 0;
    Classification& c = out[index[j]];
    if (local == nullptr) {
      c.decision = unknown_decision_;
      c.rule_id = 0;
      c.interface = Classification::kNoInterface;
      continue;
    }
    c.interface = local->interface;
    rte_prefetch0(lanes + local->first_lane[static_cast<int>(k.direction)]);
  }
  // Stage 2: the keys and scans.
  for (uint32_t j = 0; j < n; ++j) {
    const Local* local = local_of[j];
    if (local == nullptr) continue;
    const PacketKey& k = keys[index[j]];
    const int d = static_cast<int>(k.direction);
    const uint32_t lane_count = local->lane_count[d];
    if (lane_count == 0) continue;  // no group has a rule here
    if (used + lane_count > kMaxKeys) flush();
    used += lane_count;
    const auto* row =
        lookup_remote ? masks + info[hops[n + j]].member_class * mask_slots_
                      : masks;
    const uint32_t port =
        PortField(k.protocol, k.dst_port, k.icmp_type, k.icmp_code);
    const LaneKey* lane = lanes + local->first_lane[d];
    bool queried = false;
    for (uint32_t l = 0; l < lane_count; ++l, ++lane) {
      const uint32_t mask = row[lane->mask_slot];
      if (lane->scanned) {
        if (!queried) {
          LaneScan::SetQuery(k.remote, k.protocol, static_cast<uint16_t>(port),
                             queries[j]);
          queried = true;
        }
        scan_[f][d]->Prefetch(lane->lane, queries[j].klass);
        scans[scan_count++] = {j, lane->lane, mask};
        continue;
      }
      Key& key = acl_keys[count[0] + count[1]];
      key.protocol = k.protocol;
      std::memcpy(&key.remote, k.remote.bytes.data(), sizeof(key.remote));
      if constexpr (kWide) {
        key.lane_port = rte_cpu_to_be_32(lane->lane_bits << 16 | port);
        key.references = rte_cpu_to_be_32(mask);
      } else {
        key.lane_port = rte_cpu_to_be_32((lane->lane_bits | mask) << 16 | port);
      }
      data[d][count[d]] = reinterpret_cast<const uint8_t*>(&key);
      owner[d][count[d]++] = static_cast<uint8_t>(j);
    }
  }
  flush();
  for (uint32_t j = 0; j < n; ++j) {
    if (local_of[j] == nullptr) continue;
    Classification& c = out[index[j]];
    const uint32_t r = best[j];  // MatchEntry::result(), or 0
    c.decision = r == 0                    ? Decision::kNoRuleMatched
                 : (r & kRankBits) != 0 ? Decision::kAllowedByRule
                                        : Decision::kPendingName;
    c.rule_id = r != 0 ? (r & ~kRankBits) - 1 : 0;
  }
}

void RuleTable::ClassifyBurst(const PacketKey* keys, uint32_t count,
                              Classification* out) const {
  // kMaxBurst fits the uint8_t positions below.
  static_assert(kMaxBurst <= 256);
  uint8_t v4[kMaxBurst];
  uint8_t v6[kMaxBurst];
  uint32_t n4 = 0;
  uint32_t n6 = 0;
  for (uint32_t i = 0; i < count; ++i) {
    const bool is_v4 = keys[i].local.family == Family::kIPv4;
    // Branch-free split: write both, advance one.
    v4[n4] = static_cast<uint8_t>(i);
    v6[n6] = static_cast<uint8_t>(i);
    n4 += is_v4;
    n6 += !is_v4;
  }
  if (wide_) {
    if (n4 != 0) ClassifyFamily<Family::kIPv4, true>(keys, v4, n4, out);
    if (n6 != 0) ClassifyFamily<Family::kIPv6, true>(keys, v6, n6, out);
  } else {
    if (n4 != 0) ClassifyFamily<Family::kIPv4, false>(keys, v4, n4, out);
    if (n6 != 0) ClassifyFamily<Family::kIPv6, false>(keys, v6, n6, out);
  }
}

// Kept out of line: the dataplane calls it once per burst with the
// packets that open flows, and inlined (link-time optimisation) it made
// the worker's loop, which established flows run, measurably slower.
__attribute__((noinline)) void RuleTable::Classify(
    const PacketKey* keys, uint32_t count, Classification* out) const {
  while (count > 0) {
    uint32_t n = std::min(count, kMaxBurst);
    ClassifyBurst(keys, n, out);
    keys += n;
    out += n;
    count -= n;
  }
}

}  // namespace sgate::rules
