#include "control/online_commands.h"

#include <algorithm>
#include <cstring>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "control/control_socket.h"
#include "control/offline_commands.h"
#include "control/stats_snapshot.h"
#include "control/trace_packet.h"
#include "dataplane/counter_list.h"
#include "yaml-cpp/yaml.h"

namespace sgate::control {
namespace {

// sgate replies with JSON; yaml-cpp reads it (JSON is YAML).
uint64_t Count(const YAML::Node& node, const char* key) {
  const YAML::Node value = node[key];
  return value.IsScalar() ? value.as<uint64_t>(0) : 0;
}

// The interfaces with the most flows (then drops), kTopInterfaces of
// them: their flows, cap and every counter of kInterfaceCounterList.
constexpr size_t kTopInterfaces = 10;
void PrintTopInterfaces(const YAML::Node& interfaces, std::ostream& out) {
  if (!interfaces.IsSequence() || interfaces.size() == 0) return;
  // By index: assigning a YAML::Node overwrites the node it refers to, so
  // nodes cannot be sorted themselves.
  std::vector<std::pair<uint64_t, uint64_t>> weight;  // flows, drops
  for (const YAML::Node& i : interfaces) {
    uint64_t drops = 0;
    for (const dataplane::ObjectCounterInfo& c :
         dataplane::kInterfaceCounterList) {
      if (c.kind == dataplane::CounterKind::kCounter) drops += Count(i, c.name);
    }
    weight.emplace_back(Count(i, "flows"), drops);
  }
  std::vector<size_t> top(interfaces.size());
  for (size_t i = 0; i < top.size(); ++i) top[i] = i;
  std::stable_sort(top.begin(), top.end(), [&](size_t a, size_t b) {
    return weight[a] > weight[b];
  });
  if (top.size() > kTopInterfaces) top.resize(kTopInterfaces);
  out << "interfaces (top " << top.size() << " of " << interfaces.size()
      << " by flows)\n";
  out << absl::StrFormat("%-24s %9s", "interface", "max_flows");
  for (const dataplane::ObjectCounterInfo& c :
       dataplane::kInterfaceCounterList) {
    out << absl::StrFormat(" %*s", std::max<size_t>(9, strlen(c.name)),
                           c.name);
  }
  out << "\n";
  for (size_t index : top) {
    const YAML::Node i = interfaces[index];
    std::string name = i["name"].as<std::string>("");
    if (i["removed"].as<bool>(false)) name += " (removed)";
    const YAML::Node cap = i["max_flows"];
    out << absl::StrFormat("%-24s %9s", name,
                           cap.IsDefined() ? cap.as<std::string>() : "-");
    for (const dataplane::ObjectCounterInfo& c :
         dataplane::kInterfaceCounterList) {
      out << absl::StrFormat(" %*d", std::max<size_t>(9, strlen(c.name)),
                             Count(i, c.name));
    }
    out << "\n";
  }
}

// The counters in dataplane::kCounterList's order and sections: a line of
// the packet counters, the drops that happened, a line of flow counters,
// the flow-log writer's (when it did something), the top interfaces.
void PrintStats(const YAML::Node& s, std::ostream& out) {
  using dataplane::CounterSection;
  out << "generation " << Count(s, "generation") << " (reloads rejected "
      << Count(s, "reloads_rejected") << ")\n";
  out << absl::StrFormat("%-5s %-18s", "port", "name");
  for (const dataplane::ObjectCounterInfo& c : dataplane::kPortCounterList) {
    out << absl::StrFormat(" %12s", c.name);
  }
  out << "\n";
  for (const YAML::Node& p : s["ports"]) {
    out << absl::StrFormat("%-5d %-18s", Count(p, "port"),
                           p["name"].as<std::string>(""));
    for (const dataplane::ObjectCounterInfo& c : dataplane::kPortCounterList) {
      out << absl::StrFormat(" %12d", Count(p, c.name));
    }
    out << "\n";
  }
  auto line = [&](CounterSection section, const char* title,
                  bool nonzero_only, bool omit_if_none = false) {
    const YAML::Node values =
        SectionKey(section) == nullptr ? s : s[SectionKey(section)];
    std::vector<std::string> items;
    for (const dataplane::CounterInfo& c : dataplane::kCounterList) {
      if (c.section != section) continue;
      uint64_t n = Count(values, c.name);
      if (nonzero_only && n == 0) continue;
      items.push_back(absl::StrCat(c.name, " ", n));
    }
    if (items.empty() && omit_if_none) return;
    out << title << (items.empty() ? "none" : absl::StrJoin(items, ", "))
        << "\n";
  };
  line(CounterSection::kPackets, "", false);
  line(CounterSection::kDrops, "drops: ", true);
  line(CounterSection::kFlows, "flows: ", false);
  line(CounterSection::kFlowLogs, "flow logs: ", true, /*omit_if_none=*/true);
  PrintTopInterfaces(s["interfaces"], out);
}

void PrintRules(const YAML::Node& r, std::ostream& out) {
  out << "generation " << Count(r, "generation") << "\n";
  out << absl::StrFormat("%-5s %-24s %-8s %5s %10s  %s\n", "id", "group",
                         "dir", "index", "admitted", "rule");
  for (const YAML::Node& rule : r["rules"]) {
    uint64_t admitted = Count(rule, "admitted");
    out << absl::StrFormat(
        "%-5d %-24s %-8s %5d %10s  %s\n", Count(rule, "id"),
        rule["group"].as<std::string>(""),
        rule["direction"].as<std::string>(""), Count(rule, "index"),
        admitted == 0 ? "-" : absl::StrCat(admitted),
        rule["rule"].as<std::string>(""));
    if (const YAML::Node domains = rule["domains"];
        domains.IsDefined() && domains.IsSequence()) {
      std::vector<std::string> matched;
      for (const YAML::Node& d : domains) {
        matched.push_back(absl::StrCat(d["name"].as<std::string>(""), " ",
                                       Count(d, "matched")));
      }
      out << absl::StrFormat("%56s names matched: %s\n", "",
                             absl::StrJoin(matched, ", "));
    }
  }
  out << "(- : no flow admitted under this generation)\n";
}

// "sg-web ingress[1]: tcp port 22 from prefix list pl-corp"
std::string RuleLine(const YAML::Node& rule) {
  return absl::StrCat(rule["group"].as<std::string>(""), " ",
                      rule["direction"].as<std::string>(""), "[",
                      Count(rule, "index"), "]: ",
                      rule["rule"].as<std::string>(""));
}

// ", name pending", ", denied: name not_allowed (evil.example)", ", by
// name api.github.com": a flow's standing with names, if any.
std::string NameState(const YAML::Node& flow) {
  std::string check = flow["name_check"].as<std::string>("");
  std::string name = flow["name"].as<std::string>("");
  if (check == "pending") return ", name pending";
  if (!check.empty()) {
    return absl::StrCat(", denied: name ", check,
                        name.empty() ? "" : absl::StrCat(" (", name, ")"));
  }
  if (flow["named"].as<bool>(false)) {
    return absl::StrCat(", by name ", name.empty() ? "(forgotten)" : name);
  }
  return "";
}

// "198.51.100.10:80", "[2001:db8::10]:80"
std::string Endpoint(const std::string& address, uint64_t port) {
  if (address.find(':') != std::string::npos) {
    return absl::StrCat("[", address, "]:", port);
  }
  return absl::StrCat(address, ":", port);
}

void PrintFlows(const YAML::Node& r, std::ostream& out) {
  out << absl::StrFormat(
      "%-6s %-26s %-26s %-8s %-16s %-18s %9s %9s %8s  %s\n", "proto",
      "local", "remote", "opened", "state", "rule", "pkts_in", "pkts_out",
      "expires", "name");
  size_t n = 0;
  for (const YAML::Node& f : r["flows"]) {
    std::string rule = f["rule"].as<std::string>("-");
    if (f["untracked"].as<bool>(false)) rule += " (untracked)";
    std::string state = f["state"].as<std::string>("");
    if (const std::string check = f["name_check"].as<std::string>("");
        !check.empty()) {
      state = check == "pending" ? "name_pending" : "denied_" + check;
    }
    out << absl::StrFormat(
        "%-6s %-26s %-26s %-8s %-16s %-18s %9d %9d %7ds  %s\n",
        f["protocol"].as<std::string>(""),
        Endpoint(f["local"].as<std::string>(""), Count(f, "local_port")),
        Endpoint(f["remote"].as<std::string>(""), Count(f, "remote_port")),
        f["opened"].as<std::string>(""), state, rule,
        Count(f, "packets_in"), Count(f, "packets_out"),
        f["expires_in_s"].as<int64_t>(0), f["name"].as<std::string>(""));
    ++n;
  }
  out << n << (n == 1 ? " flow" : " flows") << " (generation "
      << Count(r, "generation") << ")\n";
}

// Sends `request` to sgate and reads the JSON reply. Prints why and returns
// nullopt when sgate cannot be reached, replies garbage or refuses (an
// "error" key; with --json the refusal is also printed as it came).
std::optional<YAML::Node> Ask(const std::string& control_path,
                              const std::string& request,
                              const std::string& command, bool json,
                              std::string* raw, std::ostream& out,
                              std::ostream& err) {
  absl::StatusOr<std::string> reply = ControlRequest(control_path, request);
  if (!reply.ok()) {
    err << "sgatectl: " << reply.status().message() << "\n";
    return std::nullopt;
  }
  *raw = *reply;
  YAML::Node node;
  try {
    node = YAML::Load(*reply);
  } catch (const YAML::Exception&) {
    err << "sgatectl: unreadable reply from sgate: " << *reply << "\n";
    return std::nullopt;
  }
  if (const YAML::Node error = node["error"]; error.IsScalar()) {
    if (json) out << *reply << "\n";
    err << "sgatectl " << command << ": " << error.as<std::string>() << "\n";
    return std::nullopt;
  }
  return node;
}

// The value after option args[i] as a number up to `max`; advances i.
std::optional<uint32_t> NumberOption(const std::vector<std::string>& args,
                                     size_t& i, uint32_t max,
                                     std::ostream& err) {
  const std::string& name = args[i];
  uint32_t value = 0;
  if (i + 1 == args.size() || !absl::SimpleAtoi(args[++i], &value) ||
      value > max) {
    err << "sgatectl: " << name << " expects a number from 0 to " << max
        << "\n";
    return std::nullopt;
  }
  return value;
}

}  // namespace

int RunOnlineTrace(const std::string& control_path,
                   const std::vector<std::string>& args, std::ostream& out,
                   std::ostream& err) {
  std::optional<rules::Direction> direction;
  std::optional<uint16_t> vlan;
  std::optional<uint16_t> sport;
  std::string name;
  bool json = false;
  std::vector<std::string> words;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--name") {
      if (i + 1 == args.size() || args[i + 1].empty() ||
          args[i + 1].find(' ') != std::string::npos) {
        err << "sgatectl: --name expects a server name\n";
        return 1;
      }
      name = args[++i];
    } else if (args[i] == "--in" || args[i] == "--out") {
      direction = args[i] == "--in" ? rules::Direction::kIngress
                                    : rules::Direction::kEgress;
    } else if (args[i] == "--json") {
      json = true;
    } else if (args[i] == "--vlan" || args[i] == "--sport") {
      bool is_vlan = args[i] == "--vlan";
      std::optional<uint32_t> value =
          NumberOption(args, i, is_vlan ? 4095 : 65535, err);
      if (!value) return 1;
      (is_vlan ? vlan : sport) = static_cast<uint16_t>(*value);
    } else if (args[i].rfind("--", 0) == 0) {
      err << "sgatectl trace: unknown option " << args[i] << "\n";
      return 1;
    } else {
      words.push_back(args[i]);
    }
  }
  if (!direction) {
    err << "usage: sgatectl trace (--in|--out) LOCAL REMOTE PROTO "
           "[PORT|TYPE[/CODE]] [--vlan ID] [--json]\n";
    return 1;
  }
  // Checked here too, for a local error message.
  absl::StatusOr<rules::PacketKey> packet =
      ParseTracePacket(*direction, vlan, words);
  if (!packet.ok()) {
    err << "sgatectl: " << packet.status().message() << "\n";
    return 1;
  }
  std::string request = absl::StrCat(
      "trace ", *direction == rules::Direction::kIngress ? "in" : "out", " ",
      absl::StrJoin(words, " "), vlan ? absl::StrCat(" vlan=", *vlan) : "",
      sport ? absl::StrCat(" sport=", *sport) : "",
      name.empty() ? "" : absl::StrCat(" name=", name));
  std::string reply;
  std::optional<YAML::Node> node =
      Ask(control_path, request, "trace", json, &reply, out, err);
  if (!node) return 1;
  const std::string verdict = (*node)["verdict"].as<std::string>("");
  if (json) {
    out << reply << "\n";
  } else {
    out << (*node)["packet"].as<std::string>("") << "  (live generation "
        << Count(*node, "generation") << ")\n";
    const YAML::Node interface = (*node)["interface"];
    out << "interface: "
        << (interface.IsScalar() && !interface.IsNull()
                ? interface.as<std::string>()
                : std::string("none owns this address on this node"))
        << "\n";
    out << "verdict:   " << absl::AsciiStrToUpper(verdict) << " ("
        << (*node)["decision"].as<std::string>("") << ")";
    if (const YAML::Node n = (*node)["name"]; n.IsScalar()) {
      out << " for the name " << n.as<std::string>();
    }
    out << "\n";
    if (const YAML::Node rule = (*node)["rule"]; rule.IsMap()) {
      out << "  " << RuleLine(rule);
      if (const YAML::Node d = rule["domain"]; d.IsDefined() && d.IsScalar()) {
        out << "  (by " << d.as<std::string>() << ")";
      }
      out << "\n";
    }
    if (const YAML::Node rules = (*node)["name_rules"]; rules.IsSequence()) {
      out << "decided by the client's first payload (TLS server_name, HTTP "
             "Host), among:\n";
      for (const YAML::Node& rule : rules) {
        out << "  " << RuleLine(rule) << "\n";
      }
    }
    const YAML::Node flow = (*node)["flow"];
    if (!flow.IsMap()) {
      out << "flow:      unknown (give --sport for tcp/udp; an echo needs "
             "its id)\n";
    } else if (flow["exists"].as<bool>(false)) {
      out << "flow:      exists on worker " << Count(flow, "worker") << " ("
          << flow["state"].as<std::string>("") << NameState(flow) << ", "
          << Count(flow, "packets_in") << " packets in, "
          << Count(flow, "packets_out") << " out)\n";
    } else {
      out << "flow:      none yet\n";
    }
  }
  return verdict == "allow" ? 0 : verdict == "pending" ? kExitPending
                                                       : kExitDenied;
}

namespace {

// The shape of every query command: `--json` prints sgate's reply as it
// came, otherwise `print` renders it. `parse` takes the other arguments
// and returns the request line (nullopt: an error, printed).
template <typename Parse, typename Print>
int RunQuery(const std::string& control_path, const std::string& command,
             const std::vector<std::string>& args, std::ostream& out,
             std::ostream& err, Parse parse, Print print) {
  bool json = false;
  std::vector<std::string> rest;
  for (const std::string& arg : args) {
    if (arg == "--json") {
      json = true;
    } else {
      rest.push_back(arg);
    }
  }
  std::optional<std::string> request = parse(rest, err);
  if (!request) return 1;
  std::string reply;
  std::optional<YAML::Node> node =
      Ask(control_path, *request, command, json, &reply, out, err);
  if (!node) return 1;
  if (json) {
    out << reply << "\n";
  } else {
    print(*node, out);
  }
  return 0;
}

// For commands that take no argument but --json.
auto NoArguments(const std::string& command) {
  return [command](const std::vector<std::string>& rest,
                   std::ostream& err) -> std::optional<std::string> {
    if (!rest.empty()) {
      err << "sgatectl " << command << ": unexpected argument '" << rest[0]
          << "'\n";
      return std::nullopt;
    }
    return command;
  };
}

}  // namespace

int RunStats(const std::string& control_path,
             const std::vector<std::string>& args, std::ostream& out,
             std::ostream& err) {
  return RunQuery(control_path, "stats", args, out, err, NoArguments("stats"),
                  PrintStats);
}

int RunRules(const std::string& control_path,
             const std::vector<std::string>& args, std::ostream& out,
             std::ostream& err) {
  return RunQuery(control_path, "rules", args, out, err, NoArguments("rules"),
                  PrintRules);
}

int RunFlows(const std::string& control_path,
             const std::vector<std::string>& args, std::ostream& out,
             std::ostream& err) {
  auto parse = [](const std::vector<std::string>& rest,
                  std::ostream& err) -> std::optional<std::string> {
    std::string limit = "100", interface;
    for (size_t i = 0; i < rest.size(); ++i) {
      if (rest[i] == "--limit" && i + 1 < rest.size()) {
        limit = rest[++i];
      } else if (rest[i] == "--interface" && i + 1 < rest.size()) {
        interface = rest[++i];
      } else {
        err << "sgatectl flows: unexpected argument '" << rest[i] << "'\n";
        return std::nullopt;
      }
    }
    return absl::StrCat("flows ", limit, " ", interface);
  };
  return RunQuery(control_path, "flows", args, out, err, parse, PrintFlows);
}

int RunReload(const std::string& control_path,
              const std::vector<std::string>& args, std::ostream& out,
              std::ostream& err) {
  return RunQuery(control_path, "reload", args, out, err,
                  NoArguments("reload"),
                  [](const YAML::Node& node, std::ostream& out) {
                    out << "reloaded: generation " << Count(node, "generation")
                        << " live\n";
                  });
}

int RunGeneration(const std::string& control_path,
                  const std::vector<std::string>& args, std::ostream& out,
                  std::ostream& err) {
  return RunQuery(control_path, "generation", args, out, err,
                  NoArguments("generation"),
                  [](const YAML::Node& node, std::ostream& out) {
                    out << Count(node, "generation") << "\n";
                  });
}

}  // namespace sgate::control
