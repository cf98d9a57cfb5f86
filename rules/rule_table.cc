#include "rules/rule_table.h"

#include <rte_acl.h>
#include <rte_byteorder.h>
#include <rte_errno.h>
#include <rte_fib.h>
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

// The per-packet ACL input, built on the stack for each burst, in network
// byte order (rules are given in host order). rte_acl reads the first
// field as one byte and every later "input index" as a 4-byte word, one
// trie transition per byte: the classify cost is nearly proportional to
// the bytes consumed (1 + 4 per input index), so the key packs the group
// set, the address class and the port field into as few words as fit.
// Fields sharing an input index must fill its 4 bytes (a lone 2-byte
// field silently never matches). The remote address comes right after the
// protocol: rte_acl builds its tries in field order, and prefixes before
// port ranges build much faster (measured: 2x on 10,000 ClassBench-style
// rules).
//
// `tail` holds the rest, in one of two layouts chosen per table:
//   narrow (≤ 256 group sets, ≤ 255 address classes): one word,
//     group set (1 byte), class (1 byte), port field (2 bytes);
//   wide: group set (2), port field (2); then class (4).
// Narrow saves four transitions per packet (13 → 9 for IPv4, 25 → 21 for
// IPv6), about a third of the IPv4 classify.
struct AclKey4 {
  uint8_t protocol;  // input 0
  uint8_t pad0[3];
  uint32_t remote;   // input 1
  uint32_t tail[2];  // inputs 2 (and 3)
};
static_assert(sizeof(AclKey4) == 16);

struct AclKey6 {
  uint8_t protocol;     // input 0
  uint8_t pad0[3];
  uint8_t remote[16];   // inputs 1-4
  uint32_t tail[2];     // inputs 5 (and 6)
};
static_assert(sizeof(AclKey6) == 28);

constexpr uint32_t kNarrowGroupSets = 256;
constexpr uint32_t kNarrowAddressClasses = 255;  // 1..255; 0 is "none"

// Both layouts have the same fields in the same number; only their order
// (which must be the order of the key's bytes), sizes and input indexes
// differ.
constexpr uint32_t kFields4 = 5;  // protocol, remote, set, class, port
constexpr uint32_t kFields6 = 8;  // protocol, 4 remote words, set, class, port
RTE_ACL_RULE_DEF(AclRule4, kFields4);
RTE_ACL_RULE_DEF(AclRule6, kFields6);

// Field index of each logical field in one layout.
struct AclFields {
  uint8_t protocol = 0;
  uint8_t remote = 1;  // IPv6: four 32-bit words, remote .. remote + 3
  uint8_t group_set;
  uint8_t address_class;
  uint8_t port;
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
AclFields FieldDefs(Family family, bool narrow, rte_acl_config& config) {
  const bool v4 = family == Family::kIPv4;
  const uint8_t remote_words = v4 ? 1 : 4;
  const uint32_t remote_offset =
      v4 ? offsetof(AclKey4, remote) : offsetof(AclKey6, remote);
  const uint32_t tail = v4 ? offsetof(AclKey4, tail) : offsetof(AclKey6, tail);
  const uint8_t tail_input = 1 + remote_words;

  AclFields f;
  config.num_fields = v4 ? kFields4 : kFields6;
  config.defs[f.protocol] =
      Def(RTE_ACL_FIELD_TYPE_BITMASK, 1, f.protocol, 0, 0);
  for (uint8_t w = 0; w < remote_words; ++w) {
    config.defs[f.remote + w] = Def(RTE_ACL_FIELD_TYPE_MASK, 4, f.remote + w,
                                    1 + w, remote_offset + 4 * w);
  }
  const uint8_t next = f.remote + remote_words;
  if (narrow) {
    // Exact 1-byte fields as bitmasks: cheaper to build than ranges.
    f.group_set = next;
    f.address_class = next + 1;
    f.port = next + 2;
    config.defs[f.group_set] = Def(RTE_ACL_FIELD_TYPE_BITMASK, 1, f.group_set,
                                   tail_input, tail);
    config.defs[f.address_class] = Def(RTE_ACL_FIELD_TYPE_BITMASK, 1,
                                       f.address_class, tail_input, tail + 1);
    config.defs[f.port] =
        Def(RTE_ACL_FIELD_TYPE_RANGE, 2, f.port, tail_input, tail + 2);
  } else {
    f.group_set = next;
    f.port = next + 1;
    f.address_class = next + 2;
    config.defs[f.group_set] =
        Def(RTE_ACL_FIELD_TYPE_RANGE, 2, f.group_set, tail_input, tail);
    config.defs[f.port] =
        Def(RTE_ACL_FIELD_TYPE_RANGE, 2, f.port, tail_input, tail + 2);
    config.defs[f.address_class] = Def(RTE_ACL_FIELD_TYPE_RANGE, 4,
                                       f.address_class, tail_input + 1,
                                       tail + 4);
  }
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

// Whether a rule is open to the whole address space (its remote is /0).
bool IsOpen(const MatchEntry& e) {
  return !e.by_class && e.remote.prefix_length == 0;
}

// Open rules × other rules of one context beyond which the open rules get
// a context of their own (RuleTable::BuildAcl). Below it the build takes
// tens of milliseconds at most, and one rte_acl call per burst is cheaper
// than two (1,000 ClassBench-style rules: 10 × 990, not split; 10,000:
// 100 × 9,900, split).
constexpr uint64_t kSplitOpenRules = 1u << 18;

// One ACL rule (host byte order, as rte_acl wants).
template <typename AclRule>
void FillRule(const MatchEntry& e, const rte_acl_config& config,
              const AclFields& f, AclRule& r) {
  r.data.category_mask = 1;
  // Every rule allows, so any match decides. Rules open to the whole
  // address space rank one higher, so that when one of them matches it is
  // the rule reported: whether a flow is untracked depends on it
  // (DESIGN.md §5, rules::UntrackedFlows).
  bool to_all = IsOpen(e);
  r.data.priority = RTE_ACL_MIN_PRIORITY + (to_all ? 1 : 0);
  r.data.userdata = e.rule_id + 1;  // 0 means "no match" to rte_acl
  if (e.protocol == kProtocolAll) {
    SetField(r.field[f.protocol], 1, 0, 0);
  } else {
    SetField(r.field[f.protocol], 1, static_cast<uint8_t>(e.protocol), 0xff);
  }
  auto size = [&](uint8_t field) { return config.defs[field].size; };
  const bool narrow = size(f.group_set) == 1;
  // Exact group set: a bitmask (narrow) or a one-value range (wide).
  SetField(r.field[f.group_set], size(f.group_set), e.group_set,
           narrow ? 0xff : e.group_set);
  if (e.by_class) {
    SetField(r.field[f.address_class], size(f.address_class),
             e.address_class, narrow ? 0xff : e.address_class);
  } else {  // any class: mask 0, or the whole range
    SetField(r.field[f.address_class], size(f.address_class), 0,
             narrow ? 0 : UINT32_MAX);
  }
  SetField(r.field[f.port], 2, e.port_low, e.port_high);
  const int words = config.num_fields == kFields4 ? 1 : 4;
  for (int w = 0; w < words; ++w) {
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

// Max next hop / tbl8 count of a FIB entry of `bytes` (one bit flags a
// tbl8).
constexpr uint32_t FibEntryLimit(uint32_t bytes) {
  return (1u << (8 * bytes - 1)) - 1;
}

inline uint32_t HostV4(const IpAddress& a) { return Word(a, 0); }

// HostTable6's hash: the top bits of a multiplication depend on every bit
// of its operand, and the table takes the top bits.
inline uint64_t Host6Hash(uint64_t high, uint64_t low) {
  return (high * 0x9E3779B97F4A7C15ull ^ low) * 0xC2B2AE3D27D4EB4Full;
}

}  // namespace

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

absl::StatusOr<std::unique_ptr<RuleTable>> RuleTable::Build(
    const Policy& policy, const RuleTableOptions& options) {
  auto start = std::chrono::steady_clock::now();
  SGATE_ASSIGN_OR_RETURN(CompiledPolicy compiled,
                         CompilePolicy(policy, options.compile));
  double compile_seconds = std::chrono::duration<double>(
                               std::chrono::steady_clock::now() - start)
                               .count();
  absl::StatusOr<std::unique_ptr<RuleTable>> table = Build(compiled, options);
  if (table.ok()) {
    (*table)->stats_.compile_seconds = compile_seconds;
    (*table)->stats_.build_seconds += compile_seconds;
  }
  return table;
}

absl::StatusOr<std::unique_ptr<RuleTable>> RuleTable::Build(
    const CompiledPolicy& compiled, const RuleTableOptions& options) {
  auto start = std::chrono::steady_clock::now();
  size_t heap_before = DpdkHeapBytes();
  std::unique_ptr<RuleTable> table(new RuleTable());
  // On an error the destructor frees whatever was created.
  SGATE_RETURN_IF_ERROR(table->BuildFromCompiled(compiled, options));
  RuleTableStats& st = table->stats_;
  st.memory_bytes = DpdkHeapBytes() - heap_before;
  for (int f = 0; f < 2; ++f) {
    st.memory_bytes += table->address_info_[f].size() * sizeof(AddressInfo) +
                       table->locals_[f].size() * sizeof(Local);
  }
  st.memory_bytes += table->hosts6_.size() * sizeof(Host6Slot);
  st.build_seconds = std::chrono::duration<double>(
                         std::chrono::steady_clock::now() - start)
                         .count();
  return table;
}

RuleTable::~RuleTable() {
  for (const auto* contexts : {&acl_, &acl_open_}) {
    for (const auto& per_family : *contexts) {
      for (rte_acl_ctx* ctx : per_family) {
        if (ctx != nullptr) rte_acl_free(ctx);
      }
    }
  }
  if (fib4_ != nullptr) rte_fib_free(fib4_);
}

absl::Status RuleTable::BuildFromCompiled(const CompiledPolicy& compiled,
                                          const RuleTableOptions& options) {
  // Tables coexist during an RCU swap, and DPDK object names are global:
  // each table gets its own prefix.
  static std::atomic<uint32_t> next_id{0};
  name_ = absl::StrCat("sg", getpid() % 100000, "-", next_id++);

  unknown_decision_ =
      compiled.unknown_interface == UnknownInterfaceAction::kPass
          ? Decision::kUnknownInterfacePassed
          : Decision::kUnknownInterfaceDropped;
  for (const CompiledInterface& i : compiled.interfaces) {
    interface_names_.push_back(i.name);
  }
  stats_.interfaces = static_cast<uint32_t>(compiled.interfaces.size());
  stats_.group_sets = static_cast<uint32_t>(compiled.group_sets.size());
  stats_.address_classes = compiled.address_class_count;
  narrow_ = !options.force_wide_key &&
            compiled.group_sets.size() <= kNarrowGroupSets &&
            compiled.address_class_count <= kNarrowAddressClasses;
  stats_.narrow_acl_key = narrow_;

  SGATE_RETURN_IF_ERROR(BuildFibs(compiled, options.socket_id));
  for (Family f : {Family::kIPv4, Family::kIPv6}) {
    for (Direction d : {Direction::kIngress, Direction::kEgress}) {
      SGATE_RETURN_IF_ERROR(BuildAcl(compiled, f, d, options));
    }
  }
  return absl::OkStatus();
}

absl::Status RuleTable::BuildFibs(const CompiledPolicy& compiled,
                                  int socket_id) {
  // Every address the dataplane looks up: local addresses of enforced
  // interfaces (→ interface per VLAN) and members of referenced groups
  // (→ address class). One FIB per family serves both lookups.
  struct Pending {
    std::vector<Local> locals;
    uint16_t address_class = kNoAddressClass;
  };
  std::array<std::map<IpAddress, Pending>, 2> pending;
  for (uint32_t i = 0; i < compiled.interfaces.size(); ++i) {
    const CompiledInterface& ci = compiled.interfaces[i];
    uint32_t vlan_key = ci.vlan.has_value() ? *ci.vlan : kUntagged;
    for (const IpAddress& a : ci.addresses) {
      std::vector<Local>& locals =
          pending[static_cast<int>(a.family)][a].locals;
      // An address belongs to one interface per VLAN; should a policy that
      // was not validated repeat one, the first interface wins, as in the
      // reference.
      bool dup = std::any_of(locals.begin(), locals.end(), [&](const Local& l) {
        return l.vlan_key == vlan_key;
      });
      if (!dup) locals.push_back({vlan_key, i, ci.group_set});
    }
  }
  for (const AddressClassEntry& e : compiled.address_classes) {
    pending[static_cast<int>(e.address.family)][e.address].address_class =
        e.address_class;
    lookup_remote_[static_cast<int>(e.address.family)] = true;
  }

  for (int f = 0; f < 2; ++f) {
    // Next hop 0 (no route) is entry 0: no local, no class, so the
    // classify loop indexes by next hop without testing it.
    address_info_[f].push_back(AddressInfo{});
    for (const auto& [address, p] : pending[f]) {
      AddressInfo info;
      info.first_local = static_cast<uint32_t>(locals_[f].size());
      info.local_count = static_cast<uint16_t>(p.locals.size());
      info.address_class = p.address_class;
      locals_[f].insert(locals_[f].end(), p.locals.begin(), p.locals.end());
      address_info_[f].push_back(info);
    }
    stats_.fib_routes[f] = static_cast<uint32_t>(pending[f].size());
  }

  // IPv4: DIR24_8; a /32 needs one tbl8 group per distinct /24.
  if (!pending[0].empty()) {
    std::set<uint32_t> slash24;
    for (const auto& [a, p] : pending[0]) slash24.insert(HostV4(a) >> 8);
    uint32_t routes = static_cast<uint32_t>(pending[0].size());
    uint32_t tbl8 = static_cast<uint32_t>(slash24.size());
    rte_fib_conf conf{};
    conf.type = RTE_FIB_DIR24_8;
    conf.default_nh = 0;
    conf.max_routes = static_cast<int>(routes);
    // The narrowest entry that holds every next hop and tbl8 index: the
    // 2^24-entry first level is 16 MiB with 1-byte entries, 32 with 2, 64
    // with 4, and zeroing it is most of the build time of a small table
    // (and so of a live reload).
    auto fits = [&](uint32_t bytes) {
      return routes < FibEntryLimit(bytes) && tbl8 < FibEntryLimit(bytes);
    };
    conf.dir24_8.nh_sz = fits(1)   ? RTE_FIB_DIR24_8_1B
                         : fits(2) ? RTE_FIB_DIR24_8_2B
                                   : RTE_FIB_DIR24_8_4B;
    conf.dir24_8.num_tbl8 = tbl8 + 1;
    std::string name = name_ + "-fib4";
    fib4_ = rte_fib_create(name.c_str(), socket_id, &conf);
    if (fib4_ == nullptr) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "rte_fib_create(", name, "): ", rte_strerror(rte_errno)));
    }
    uint64_t nh = 1;
    for (const auto& [a, p] : pending[0]) {
      if (int rc = rte_fib_add(fib4_, HostV4(a), 32, nh++); rc < 0) {
        return absl::ResourceExhaustedError(
            absl::StrCat("rte_fib_add(", a.ToString(), "): ", rte_strerror(-rc)));
      }
    }
  }
  // IPv6: every route is a /128, so an exact-match table (HostTable6).
  if (!pending[1].empty()) {
    // At most half full: probes stay short (one, mostly).
    const size_t size = std::max<size_t>(
        16, std::bit_ceil(2 * pending[1].size()));
    hosts6_.assign(size, Host6Slot{});
    hosts6_shift_ = 64 - std::countr_zero(size);
    uint32_t nh = 1;
    for (const auto& [a, p] : pending[1]) {
      Host6Slot slot;
      std::memcpy(&slot.high, a.bytes.data(), 8);
      std::memcpy(&slot.low, a.bytes.data() + 8, 8);
      slot.next_hop = nh++;
      size_t i = Host6Hash(slot.high, slot.low) >> hosts6_shift_;
      while (hosts6_[i].next_hop != 0) i = (i + 1) & (size - 1);
      hosts6_[i] = slot;
    }
  }
  return absl::OkStatus();
}

absl::Status RuleTable::BuildAcl(const CompiledPolicy& compiled, Family family,
                                 Direction direction,
                                 const RuleTableOptions& options) {
  const std::vector<MatchEntry>& entries = compiled.Entries(family, direction);
  const int f = static_cast<int>(family);
  const int d = static_cast<int>(direction);
  stats_.acl_rules[f][d] = static_cast<uint32_t>(entries.size());
  if (entries.empty()) return absl::OkStatus();  // nothing can match

  // Rules open to the whole address space are copied by rte_acl's trie
  // merge under every other rule's remote prefix: 100 of them among 10,000
  // ClassBench-style rules make 4x the trie nodes (232k, not 55k) and
  // build memory (344 MB, not 75). Past kSplitOpenRules (open × other
  // rules) they get a context of their own, which costs a second, short
  // rte_acl_classify per burst (rte_acl drops the all-wild remote from it).
  std::vector<const MatchEntry*> main;
  std::vector<const MatchEntry*> open;
  for (const MatchEntry& e : entries) {
    (IsOpen(e) ? open : main).push_back(&e);
  }
  const bool split =
      !open.empty() && !main.empty() &&
      (options.force_split_open_rules ||
       uint64_t{open.size()} * main.size() >= kSplitOpenRules);
  if (!split) {
    main.insert(main.end(), open.begin(), open.end());
    open.clear();
  }
  std::string name = absl::StrCat(name_, "-acl", f == 0 ? "4" : "6",
                                  d == 0 ? "i" : "e");
  SGATE_RETURN_IF_ERROR(
      BuildAclContext(name, family, main, options, acl_[f][d]));
  if (open.empty()) return absl::OkStatus();
  return BuildAclContext(name + "o", family, open, options, acl_open_[f][d]);
}

absl::Status RuleTable::BuildAclContext(
    const std::string& name, Family family,
    const std::vector<const MatchEntry*>& entries,
    const RuleTableOptions& options, rte_acl_ctx*& ctx) {
  rte_acl_config config{};
  config.num_categories = 1;
  const AclFields fields = FieldDefs(family, narrow_, config);
  rte_acl_param param{};
  param.name = name.c_str();
  param.socket_id = options.socket_id;
  param.rule_size = RTE_ACL_RULE_SZ(config.num_fields);
  param.max_rule_num = static_cast<uint32_t>(entries.size());
  ctx = rte_acl_create(&param);
  if (ctx == nullptr) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "rte_acl_create(", name, "): ", rte_strerror(rte_errno)));
  }

  auto add = [&](auto rule_tag) -> int {
    using AclRule = decltype(rule_tag);
    std::vector<AclRule> rules(entries.size());
    for (size_t i = 0; i < entries.size(); ++i) {
      FillRule(*entries[i], config, fields, rules[i]);
    }
    return rte_acl_add_rules(
        ctx, reinterpret_cast<const rte_acl_rule*>(rules.data()),
        static_cast<uint32_t>(rules.size()));
  };
  int rc = family == Family::kIPv4 ? add(AclRule4{}) : add(AclRule6{});
  if (rc != 0) {
    return absl::InternalError(
        absl::StrCat("rte_acl_add_rules(", name, "): ", rte_strerror(-rc)));
  }
  if (rc = rte_acl_build(ctx, &config); rc != 0) {
    return absl::ResourceExhaustedError(
        absl::StrCat("rte_acl_build(", name, "): ", rte_strerror(-rc)));
  }

  if (options.acl_method == AclMethod::kAuto) {
    // Widest first; rte_acl refuses a method the CPU or EAL's max SIMD
    // bitwidth does not allow.
    for (AclMethod m : {AclMethod::kAvx512x32, AclMethod::kAvx512x16,
                        AclMethod::kAvx2, AclMethod::kSse, AclMethod::kScalar}) {
      if (rte_acl_set_ctx_classify(ctx, ToAlg(m)) == 0) {
        stats_.acl_method = m;
        break;
      }
    }
  } else {
    if (rc = rte_acl_set_ctx_classify(ctx, ToAlg(options.acl_method));
        rc != 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "acl method ", AclMethodName(options.acl_method),
          " is not available (CPU, or EAL --force-max-simd-bitwidth): ",
          rte_strerror(-rc)));
    }
    stats_.acl_method = options.acl_method;
  }
  return absl::OkStatus();
}

template <Family kFamily, bool kNarrow>
void RuleTable::ClassifyFamily(const PacketKey* keys, const uint8_t* index,
                               uint32_t n, Classification* out) const {
  using Key = typename AclLayout<kFamily>::Key;
  constexpr int f = static_cast<int>(kFamily);
  const bool lookup_remote = lookup_remote_[f];
  const uint32_t lookups = lookup_remote ? 2 * n : n;

  // Local addresses in [0, n), remote ones (when classes exist) in [n, 2n):
  // one bulk FIB call for the whole burst.
  uint64_t hops[2 * kMaxBurst];
  if constexpr (kFamily == Family::kIPv4) {
    uint32_t ips[2 * kMaxBurst];
    for (uint32_t j = 0; j < n; ++j) {
      ips[j] = HostV4(keys[index[j]].local);
    }
    if (lookup_remote) {
      for (uint32_t j = 0; j < n; ++j) {
        ips[n + j] = HostV4(keys[index[j]].remote);
      }
    }
    if (fib4_ != nullptr) {
      rte_fib_lookup_bulk(fib4_, ips, hops, static_cast<int>(lookups));
    } else {
      std::fill_n(hops, lookups, 0);
    }
  } else {
    LookupHosts6(keys, index, n, lookup_remote, hops);
  }

  const AddressInfo* info = address_info_[f].data();
  const Local* locals = locals_[f].data();
  Key acl_keys[kMaxBurst];
  const uint8_t* data[2][kMaxBurst];
  uint8_t position[2][kMaxBurst];
  uint32_t count[2] = {0, 0};
  for (uint32_t j = 0; j < n; ++j) {
    const uint32_t i = index[j];
    const PacketKey& k = keys[i];
    // Next hop 0 is the empty entry 0 (BuildFibs): no test needed.
    const AddressInfo& a = info[hops[j]];
    const uint32_t vlan_key = k.vlan.has_value() ? *k.vlan : kUntagged;
    const Local* local = nullptr;
    for (uint32_t l = a.first_local; l < a.first_local + a.local_count; ++l) {
      if (locals[l].vlan_key == vlan_key) {
        local = &locals[l];
        break;
      }
    }
    Classification& c = out[i];
    if (local == nullptr) {
      c.decision = unknown_decision_;
      c.rule_id = 0;
      c.interface = Classification::kNoInterface;
      continue;
    }
    c.interface = local->interface;
    const uint32_t klass =
        lookup_remote ? info[hops[n + j]].address_class : kNoAddressClass;
    const uint32_t port =
        PortField(k.protocol, k.dst_port, k.icmp_type, k.icmp_code);
    Key& key = acl_keys[j];
    key.protocol = k.protocol;
    std::memcpy(&key.remote, k.remote.bytes.data(), sizeof(key.remote));
    if constexpr (kNarrow) {
      key.tail[0] = rte_cpu_to_be_32(uint32_t{local->group_set} << 24 |
                                     klass << 16 | port);
    } else {
      key.tail[0] = rte_cpu_to_be_32(uint32_t{local->group_set} << 16 | port);
      key.tail[1] = rte_cpu_to_be_32(klass);
    }
    const int d = static_cast<int>(k.direction);
    data[d][count[d]] = reinterpret_cast<const uint8_t*>(&key);
    position[d][count[d]++] = static_cast<uint8_t>(i);
  }

  // One rte_acl call per direction for the whole burst.
  for (int d = 0; d < 2; ++d) {
    if (count[d] == 0) continue;
    uint32_t results[kMaxBurst];
    if (acl_[f][d] != nullptr) {
      rte_acl_classify(acl_[f][d], data[d], results, count[d], 1);
    } else {
      std::fill_n(results, count[d], 0);
    }
    if (acl_open_[f][d] != nullptr) {
      // An open rule outranks the others (FillRule): it wins when it
      // matches, as it would in one context.
      uint32_t open[kMaxBurst];
      rte_acl_classify(acl_open_[f][d], data[d], open, count[d], 1);
      for (uint32_t t = 0; t < count[d]; ++t) {
        if (open[t] != 0) results[t] = open[t];
      }
    }
    for (uint32_t t = 0; t < count[d]; ++t) {
      Classification& c = out[position[d][t]];
      const uint32_t r = results[t];  // rule id + 1, or 0
      c.decision = r != 0 ? Decision::kAllowedByRule : Decision::kNoRuleMatched;
      c.rule_id = r != 0 ? r - 1 : 0;
    }
  }
}

void RuleTable::LookupHosts6(const PacketKey* keys, const uint8_t* index,
                             uint32_t n, bool remote_too,
                             uint64_t* hops) const {
  if (hosts6_.empty()) {
    std::fill_n(hops, remote_too ? 2 * n : n, 0);
    return;
  }
  const Host6Slot* slots = hosts6_.data();
  const size_t mask = hosts6_.size() - 1;
  // Hash the burst and prefetch its slots first, then probe: the slots'
  // cache misses overlap instead of queueing one after another.
  uint64_t high[2 * kMaxBurst];
  uint64_t low[2 * kMaxBurst];
  size_t slot[2 * kMaxBurst];
  auto hash = [&](uint32_t j, const IpAddress& a) {
    std::memcpy(&high[j], a.bytes.data(), 8);
    std::memcpy(&low[j], a.bytes.data() + 8, 8);
    slot[j] = Host6Hash(high[j], low[j]) >> hosts6_shift_;
    rte_prefetch0(&slots[slot[j]]);
  };
  for (uint32_t j = 0; j < n; ++j) hash(j, keys[index[j]].local);
  if (remote_too) {
    for (uint32_t j = 0; j < n; ++j) hash(n + j, keys[index[j]].remote);
  }
  const uint32_t lookups = remote_too ? 2 * n : n;
  for (uint32_t j = 0; j < lookups; ++j) {
    size_t i = slot[j];
    // The table is at most half full: an empty slot ends every probe.
    while (slots[i].next_hop != 0 &&
           (slots[i].high != high[j] || slots[i].low != low[j])) {
      i = (i + 1) & mask;
    }
    hops[j] = slots[i].next_hop;
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
  if (narrow_) {
    if (n4 != 0) ClassifyFamily<Family::kIPv4, true>(keys, v4, n4, out);
    if (n6 != 0) ClassifyFamily<Family::kIPv6, true>(keys, v6, n6, out);
  } else {
    if (n4 != 0) ClassifyFamily<Family::kIPv4, false>(keys, v4, n4, out);
    if (n6 != 0) ClassifyFamily<Family::kIPv6, false>(keys, v6, n6, out);
  }
}

void RuleTable::Classify(const PacketKey* keys, uint32_t count,
                         Classification* out) const {
  while (count > 0) {
    uint32_t n = std::min(count, kMaxBurst);
    ClassifyBurst(keys, n, out);
    keys += n;
    out += n;
    count -= n;
  }
}

}  // namespace sgate::rules
