#include "control/offline_commands.h"

#include <algorithm>
#include <cstdint>
#include <optional>

#include <rte_eal.h>
#include <rte_errno.h>
#include <sys/resource.h>
#include <unistd.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "control/json_writer.h"
#include "control/trace_packet.h"
#include "rules/policy_loader.h"
#include "rules/domain_table.h"
#include "rules/reference.h"
#include "rules/rule_table.h"
#include "rules/status_macros.h"

namespace sgate::control {
namespace {

using rules::Direction;
using rules::Family;
using rules::Policy;

// Options shared by the offline commands. Words that do not start with "--"
// are positional.
struct Options {
  std::vector<std::string> positional;
  rules::LoadOptions load;
  std::string node;
  std::optional<uint16_t> vlan;
  std::optional<Direction> direction;
  std::string name;  // trace: the server name a pending flow's client asked
  bool json = false;
  bool compile = false;  // check: also build the dataplane's table
};

bool ParseOptions(const std::vector<std::string>& args, Options& options,
                  std::ostream& err) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.rfind("--", 0) != 0) {
      options.positional.push_back(arg);
      continue;
    }
    if (arg == "--json") {
      options.json = true;
      continue;
    }
    if (arg == "--compile") {
      options.compile = true;
      continue;
    }
    if (arg == "--in" || arg == "--out") {
      options.direction =
          arg == "--in" ? Direction::kIngress : Direction::kEgress;
      continue;
    }
    if (arg != "--aws-json" && arg != "--node" && arg != "--vlan" &&
        arg != "--name") {
      err << "sgatectl: unknown option " << arg << "\n";
      return false;
    }
    if (i + 1 == args.size()) {
      err << "sgatectl: " << arg << " needs a value\n";
      return false;
    }
    const std::string& value = args[++i];
    if (arg == "--aws-json") {
      options.load.aws_json_path = value;
    } else if (arg == "--name") {
      options.name = value;
    } else if (arg == "--node") {
      options.node = value;
    } else {
      uint32_t vlan = 0;
      if (!absl::SimpleAtoi(value, &vlan) || vlan > 4095) {
        err << "sgatectl: --vlan expects a VLAN id from 0 to 4095, got '"
            << value << "'\n";
        return false;
      }
      options.vlan = vlan;
    }
  }
  return true;
}

}  // namespace

std::optional<Policy> LoadPolicyReportingErrors(const std::string& path,
                                                const rules::LoadOptions& load,
                                                std::ostream& err) {
  absl::StatusOr<Policy> policy = rules::LoadPolicyFile(path, load);
  if (!policy.ok()) {
    absl::string_view errors = policy.status().message();
    size_t count = 1 + std::count(errors.begin(), errors.end(), '\n');
    err << errors << "\n"
        << path << ": rejected, " << count
        << (count == 1 ? " error" : " errors") << "\n";
    return std::nullopt;
  }
  return *std::move(policy);
}

namespace {

// The number of (rule, remote prefix or member address) pairs per family and
// direction: the size the classifier has to represent once group references
// and prefix lists are expanded.
struct ExpandedCounts {
  size_t count[2][2] = {};  // [direction][family]

  void Add(const Policy& policy, Direction direction, const rules::Rule& rule) {
    auto add = [&](Family family) {
      ++count[static_cast<int>(direction)][static_cast<int>(family)];
    };
    switch (rule.remote_kind) {
      case rules::RemoteKind::kCidr:
        for (const rules::Cidr& c : rule.cidrs) add(c.address.family);
        break;
      case rules::RemoteKind::kPrefixList:
        for (const rules::Cidr& c :
             policy.prefix_lists.at(rule.remote_name).cidrs) {
          add(c.address.family);
        }
        break;
      case rules::RemoteKind::kSecurityGroup:
        for (const rules::Interface* member :
             policy.Members(rule.remote_name)) {
          for (const rules::IpAddress& a : member->addresses) add(a.family);
        }
        break;
    }
  }
  size_t Get(Direction d, Family f) const {
    return count[static_cast<int>(d)][static_cast<int>(f)];
  }
};

struct PolicySummary {
  size_t groups = 0;
  size_t implicit_groups = 0;
  size_t rules[2] = {};  // per direction
  size_t domain_rules = 0;  // egress rules with domains
  size_t domains = 0;       // their names
  size_t interfaces = 0;
  size_t enforced_interfaces = 0;
  size_t prefix_lists = 0;
  ExpandedCounts expanded;
};

PolicySummary Summarise(const Policy& policy, const std::string& node) {
  PolicySummary s;
  s.groups = policy.security_groups.size();
  for (const auto& [name, group] : policy.security_groups) {
    s.implicit_groups += group.implicit;
    for (Direction d : {Direction::kIngress, Direction::kEgress}) {
      s.rules[static_cast<int>(d)] += group.rules(d).size();
      for (const rules::Rule& rule : group.rules(d)) {
        s.expanded.Add(policy, d, rule);
        s.domain_rules += rule.has_domains();
        s.domains += rule.domains.size();
      }
    }
  }
  s.interfaces = policy.interfaces.size();
  for (const auto& [name, interface] : policy.interfaces) {
    s.enforced_interfaces += interface.EnforcedOn(node);
  }
  s.prefix_lists = policy.prefix_lists.size();
  return s;
}

}  // namespace

absl::StatusOr<CompiledStats> CompileInProcess(const Policy& policy,
                                               const std::string& node) {
  static const bool eal_up = [] {
    std::vector<std::string> args = {
        "sgatectl", "--no-huge", "--no-pci", "--no-shconf", "-m", "1024",
        "--log-level=lib.*:error", "--force-max-simd-bitwidth=512",
        absl::StrCat("--file-prefix=sgatectl-", getpid())};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    return rte_eal_init(static_cast<int>(argv.size()), argv.data()) >= 0;
  }();
  if (!eal_up) {
    return absl::UnavailableError(absl::StrCat(
        "DPDK's EAL did not start: ", rte_strerror(rte_errno)));
  }
  rules::RuleTableOptions options;
  options.compile.node = node;
  SGATE_ASSIGN_OR_RETURN(std::unique_ptr<rules::RuleTable> table,
                         rules::RuleTable::Build(policy, options));
  SGATE_ASSIGN_OR_RETURN(std::unique_ptr<rules::DomainTable> names,
                         rules::DomainTable::Build(policy, node, 0));
  return CompiledStats{table->stats(), names->stats()};
}

namespace {

// The process's peak resident set so far (getrusage), in bytes.
size_t PeakRssBytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<size_t>(usage.ru_maxrss) * 1024;
}

std::string Mib(size_t bytes) {
  return absl::StrFormat("%.1f MiB", bytes / 1048576.0);
}
std::string Ms(double seconds) {
  return absl::StrFormat("%.1f ms", seconds * 1e3);
}

const char* ScanSimdName(rules::LaneScan::Simd simd) {
  switch (simd) {
    case rules::LaneScan::Simd::kAvx512:
      return "avx512";
    case rules::LaneScan::Simd::kAvx2:
      return "avx2";
    case rules::LaneScan::Simd::kScalar:
      break;
  }
  return "scalar";
}

// What was built and how long each part took, so that an operator sees why
// a policy is big (rules/README.md says what each part is).
void PrintCompiled(const CompiledStats& compiled, size_t peak_rss,
                   std::ostream& out) {
  const rules::RuleTableStats& c = compiled.table;
  const rules::DomainTableStats& n = compiled.names;
  out << "  compiled:        " << Ms(c.build_seconds) << ", "
      << Mib(c.memory_bytes()) << " of tables, peak RSS " << Mib(peak_rss)
      << "\n"
      << "  rule side:       " << c.groups << " groups (" << c.referenced_groups
      << " referenced), " << (c.wide_acl_key ? "wide" : "narrow")
      << " ACL key with " << c.reference_bits << "-bit reference masks; "
      << Ms(c.rules_seconds) << "\n";
  for (Family f : {Family::kIPv4, Family::kIPv6}) {
    for (Direction d : {Direction::kIngress, Direction::kEgress}) {
      const rules::AclContextStats& a =
          c.acl[static_cast<int>(f)][static_cast<int>(d)];
      out << "  " << rules::FamilyName(f) << " "
          << absl::StrFormat("%-8s", rules::DirectionName(d)) << "  "
          << a.rules << " rules in " << a.lanes << " lanes: "
          << a.scanned_lanes << " scanned (" << a.scanned_rules
          << " rules), " << a.lanes - a.scanned_lanes << " in rte_acl ("
          << a.rules - a.scanned_rules << " rules";
      if (a.open_apart > 0) out << ", " << a.open_apart << " open apart";
      out << "); " << (a.reused ? "shared" : "built in " + Ms(a.build_seconds))
          << ", " << Mib(a.memory_bytes) << "\n";
    }
  }
  bool acl_used = false;
  for (const auto& per_family : c.acl) {
    for (const rules::AclContextStats& a : per_family) {
      acl_used = acl_used || a.scanned_rules < a.rules;
    }
  }
  out << "  methods:         rte_acl "
      << (acl_used ? rules::AclMethodName(c.acl_method) : "unused")
      << ", scan " << ScanSimdName(c.scan_simd) << "\n"
      << "  address side:    " << c.interfaces << " interfaces, host tables "
      << c.host_addresses[0] << " IPv4 + " << c.host_addresses[1] << " IPv6, "
      << c.member_classes << " member classes; " << Ms(c.addresses_seconds)
      << " + tables " << Ms(c.hosts_seconds) << ", " << Mib(c.address_memory_bytes)
      << "\n"
      << "  keys per packet: "
      << absl::StrFormat(
             "IPv4 ingress %.2f, egress %.2f; IPv6 ingress %.2f, egress %.2f",
             c.lanes_per_interface[0][0], c.lanes_per_interface[0][1],
             c.lanes_per_interface[1][0], c.lanes_per_interface[1][1])
      << " (lanes per interface)\n";
  if (n.patterns != 0) {
    out << "  domain names:    " << n.patterns << " patterns for " << n.rules
        << " rules, Hyperscan database "
        << absl::StrFormat("%.1f", n.database_bytes / 1024.0) << " KiB, "
        << Ms(n.build_seconds) << "\n";
  }
}

void PrintSummaryJson(const std::string& path, const PolicySummary& s,
                      const std::optional<CompiledStats>& stats,
                      size_t peak_rss, std::ostream& out) {
  JsonWriter j;
  j.BeginObject();
  j.Field("file", path);
  j.Field("valid", true);
  j.Field("security_groups", s.groups);
  j.Field("implicit_groups", s.implicit_groups);
  j.Field("interfaces", s.interfaces);
  j.Field("enforced_interfaces", s.enforced_interfaces);
  j.Field("prefix_lists", s.prefix_lists);
  for (Direction d : {Direction::kIngress, Direction::kEgress}) {
    j.Key(rules::DirectionName(d));
    j.BeginObject();
    j.Field("rules", s.rules[static_cast<int>(d)]);
    j.Field("expanded_ipv4", s.expanded.Get(d, Family::kIPv4));
    j.Field("expanded_ipv6", s.expanded.Get(d, Family::kIPv6));
    j.EndObject();
  }
  j.Field("domain_rules", s.domain_rules);
  j.Field("domains", s.domains);
  if (stats) {
    const rules::RuleTableStats& c = stats->table;
    j.Key("compiled");
    j.BeginObject();
    j.Field("build_ms", c.build_seconds * 1e3);
    j.Field("rules_ms", c.rules_seconds * 1e3);
    j.Field("acl_ms", c.acl_seconds * 1e3);
    j.Field("addresses_ms", c.addresses_seconds * 1e3);
    j.Field("hosts_ms", c.hosts_seconds * 1e3);
    j.Field("memory_bytes", c.memory_bytes());
    j.Field("acl_memory_bytes", c.acl_memory_bytes);
    j.Field("address_memory_bytes", c.address_memory_bytes);
    j.Field("peak_rss_bytes", peak_rss);
    j.Field("acl_method", rules::AclMethodName(c.acl_method));
    j.Field("scan_simd", ScanSimdName(c.scan_simd));
    j.Field("wide_acl_key", c.wide_acl_key);
    j.Field("groups", c.groups);
    j.Field("referenced_groups", c.referenced_groups);
    j.Field("member_classes", c.member_classes);
    for (Family f : {Family::kIPv4, Family::kIPv6}) {
      for (Direction d : {Direction::kIngress, Direction::kEgress}) {
        const rules::AclContextStats& a =
            c.acl[static_cast<int>(f)][static_cast<int>(d)];
        const std::string suffix = absl::StrCat(
            f == Family::kIPv4 ? "ipv4_" : "ipv6_", rules::DirectionName(d));
        j.Field("acl_rules_" + suffix, a.rules);
        j.Field("acl_lanes_" + suffix, a.lanes);
        j.Field("scanned_lanes_" + suffix, a.scanned_lanes);
        j.Field("scanned_rules_" + suffix, a.scanned_rules);
        j.Field("acl_ms_" + suffix, a.build_seconds * 1e3);
        j.Field("keys_per_packet_" + suffix,
                c.lanes_per_interface[static_cast<int>(f)]
                                     [static_cast<int>(d)]);
      }
    }
    j.Field("domain_patterns", stats->names.patterns);
    j.Field("domain_database_bytes", stats->names.database_bytes);
    j.EndObject();
  }
  j.EndObject();
  out << j.str() << "\n";
}

void PrintSummary(const std::string& path, const std::string& node,
                  const PolicySummary& s, std::ostream& out) {
  out << path << ": OK\n"
      << "  security groups: " << s.groups;
  if (s.implicit_groups) out << " (" << s.implicit_groups << " implicit)";
  out << "\n  interfaces:      " << s.interfaces << " ("
      << s.enforced_interfaces << " enforced on "
      << (node.empty() ? "a node without --node" : "node " + node) << ")\n"
      << "  prefix lists:    " << s.prefix_lists << "\n";
  for (Direction d : {Direction::kIngress, Direction::kEgress}) {
    out << "  " << rules::DirectionName(d)
        << (d == Direction::kIngress ? " rules:   " : " rules:    ")
        << s.rules[static_cast<int>(d)] << ", expanded to "
        << s.expanded.Get(d, Family::kIPv4) << " IPv4 + "
        << s.expanded.Get(d, Family::kIPv6) << " IPv6 remote entries\n";
  }
  if (s.domain_rules != 0) {
    out << "  domain rules:    " << s.domain_rules << " egress, "
        << s.domains << " names\n";
  }
}

// The packet of a trace command: FILE, then LOCAL REMOTE PROTO [DETAIL].
std::optional<rules::PacketKey> ParsePacket(const Options& options,
                                            std::ostream& err) {
  const std::vector<std::string>& words = options.positional;
  if (!options.direction || words.size() < 4 || words.size() > 5) {
    err << "usage: sgatectl trace FILE (--in|--out) LOCAL REMOTE PROTO "
           "[PORT|TYPE[/CODE]] [--vlan ID] [--node NAME] [--aws-json FILE] "
           "[--name SERVER_NAME] [--json]\n";
    return std::nullopt;
  }
  absl::StatusOr<rules::PacketKey> packet = ParseTracePacket(
      *options.direction, options.vlan,
      std::vector<std::string>(words.begin() + 1, words.end()));
  if (!packet.ok()) {
    err << "sgatectl: " << packet.status().message() << "\n";
    return std::nullopt;
  }
  return *packet;
}

void PrintTraceJson(const Policy& policy, const rules::PacketKey& packet,
                    const std::string& name, const rules::Verdict& verdict,
                    std::ostream& out) {
  JsonWriter j;
  j.BeginObject();
  j.Field("packet", DescribePacket(packet));
  if (!name.empty()) j.Field("name", name);
  j.Field("verdict", VerdictName(verdict.decision));
  j.Field("decision", DecisionName(verdict.decision));
  j.Key("interface");
  if (verdict.interface) {
    j.String(verdict.interface->name);
  } else {
    j.Null();
  }
  j.Key("rules");
  j.BeginArray();
  for (uint32_t id : verdict.matching_rules) {
    const rules::RuleRef& ref = policy.rules()[id];
    const rules::Rule& rule = policy.rule(id);
    j.BeginObject();
    j.Field("group", ref.group);
    j.Field("direction", rules::DirectionName(ref.direction));
    j.Field("index", ref.index);
    j.Field("rule", rule.Describe(ref.direction));
    j.Field("description", rule.description);
    j.Field("location", rule.location.ToString());
    if (rule.has_domains()) {
      j.Key("domains");
      j.BeginArray();
      for (const std::string& d : rule.domains) j.String(d);
      j.EndArray();
    }
    j.EndObject();
  }
  j.EndArray();
  if (!verdict.matching_domains.empty()) {
    // The domains that admitted the name.
    j.Key("domains_matched");
    j.BeginArray();
    for (uint32_t d : verdict.matching_domains) j.String(policy.domain(d));
    j.EndArray();
  }
  j.EndObject();
  out << j.str() << "\n";
}

void PrintTrace(const Policy& policy, const rules::PacketKey& packet,
                const std::string& name, const rules::Verdict& verdict,
                std::ostream& out) {
  out << DescribePacket(packet) << "\n";
  if (verdict.interface == nullptr) {
    out << "interface: none owns " << packet.local.ToString()
        << (packet.vlan ? absl::StrCat(" in vlan ", *packet.vlan) : "")
        << " on this node\n"
        << "verdict:   " << (verdict.allowed ? "ALLOW" : "DENY")
        << " (settings.unknown_interface: "
        << (verdict.allowed ? "pass" : "drop") << ")\n";
    return;
  }
  out << "interface: " << verdict.interface->name << " (groups "
      << absl::StrJoin(verdict.interface->security_groups, ", ") << ")\n";
  const size_t rule_count = verdict.matching_rules.size();
  const char* rules_word = rule_count == 1 ? " rule" : " rules";
  switch (verdict.decision) {
    case rules::Decision::kPendingName:
      out << "verdict:   PENDING: only rules with domains allow it; the "
             "client's first payload\n           (TLS server_name, HTTP Host) "
             "decides (give --name), by "
          << rule_count << rules_word << "\n";
      break;
    case rules::Decision::kNameNotAllowed:
      out << "verdict:   DENY (the name '" << name
          << "' is admitted by no domain of "
          << (rule_count == 1 ? "the rule that allows"
                              : absl::StrCat("the ", rule_count,
                                             " rules that allow"))
          << " it)\n";
      break;
    case rules::Decision::kAllowedByRule:
      out << "verdict:   ALLOW, by " << rule_count << rules_word;
      if (!verdict.matching_domains.empty()) {
        std::vector<std::string> domains;
        for (uint32_t d : verdict.matching_domains) {
          domains.push_back(policy.domain(d));
        }
        out << " (the name '" << name << "' as " << absl::StrJoin(domains, ", ")
            << ")";
      }
      out << "\n";
      break;
    default:
      out << "verdict:   DENY (no " << rules::DirectionName(packet.direction)
          << " rule of these groups allows it)\n";
      return;
  }
  for (uint32_t id : verdict.matching_rules) {
    const rules::RuleRef& ref = policy.rules()[id];
    const rules::Rule& rule = policy.rule(id);
    out << "  " << ref.group << " " << rules::DirectionName(ref.direction)
        << "[" << ref.index << "]: " << rule.Describe(ref.direction);
    if (!rule.description.empty()) out << " \"" << rule.description << "\"";
    if (rule.location.line > 0) out << "  (" << rule.location.ToString() << ")";
    out << "\n";
  }
}

}  // namespace

int RunCheck(const std::vector<std::string>& args, std::ostream& out,
             std::ostream& err) {
  Options options;
  if (!ParseOptions(args, options, err)) return 1;
  if (options.positional.size() != 1) {
    err << "usage: sgatectl check FILE [--aws-json FILE] [--node NAME] "
           "[--json]\n";
    return 1;
  }
  const std::string& path = options.positional[0];
  std::optional<Policy> policy =
      LoadPolicyReportingErrors(path, options.load, err);
  if (!policy) return 1;
  PolicySummary summary = Summarise(*policy, options.node);
  std::optional<CompiledStats> compiled;
  if (options.compile) {
    absl::StatusOr<CompiledStats> stats =
        CompileInProcess(*policy, options.node);
    if (!stats.ok()) {
      err << path << ": cannot compile: " << stats.status().message() << "\n";
      return 1;
    }
    compiled = *stats;
  }
  const size_t peak_rss = PeakRssBytes();
  if (options.json) {
    PrintSummaryJson(path, summary, compiled, peak_rss, out);
  } else {
    PrintSummary(path, options.node, summary, out);
    if (compiled) PrintCompiled(*compiled, peak_rss, out);
  }
  return 0;
}

int RunTrace(const std::vector<std::string>& args, std::ostream& out,
             std::ostream& err) {
  Options options;
  if (!ParseOptions(args, options, err)) return 1;
  std::optional<rules::PacketKey> packet = ParsePacket(options, err);
  if (!packet) return 1;
  std::optional<Policy> policy =
      LoadPolicyReportingErrors(options.positional[0], options.load, err);
  if (!policy) return 1;
  rules::Reference reference(*policy, options.node);
  rules::Verdict verdict =
      options.name.empty() ? reference.Evaluate(*packet)
                           : reference.EvaluateNamed(*packet, options.name);
  if (options.json) {
    PrintTraceJson(*policy, *packet, options.name, verdict, out);
  } else {
    PrintTrace(*policy, *packet, options.name, verdict, out);
  }
  if (verdict.allowed) return 0;
  return verdict.decision == rules::Decision::kPendingName ? kExitPending
                                                           : kExitDenied;
}

}  // namespace sgate::control
