#include "control/online_commands.h"

#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "control/control_socket.h"
#include "yaml-cpp/yaml.h"

namespace sgate::control {
namespace {

// sgate replies with JSON; yaml-cpp reads it (JSON is YAML).
uint64_t Count(const YAML::Node& node, const char* key) {
  const YAML::Node value = node[key];
  return value.IsScalar() ? value.as<uint64_t>(0) : 0;
}

void PrintStats(const YAML::Node& s, std::ostream& out) {
  out << "generation " << Count(s, "generation") << " (reloads rejected "
      << Count(s, "reloads_rejected") << ")\n";
  out << absl::StrFormat("%-5s %-18s %12s %12s %12s\n", "port", "name",
                         "rx_packets", "tx_packets", "rx_dropped");
  for (const YAML::Node& p : s["ports"]) {
    out << absl::StrFormat("%-5d %-18s %12d %12d %12d\n", Count(p, "port"),
                           p["name"].as<std::string>(""),
                           Count(p, "rx_packets"), Count(p, "tx_packets"),
                           Count(p, "rx_dropped"));
  }
  out << "received " << Count(s, "received") << ", forwarded "
      << Count(s, "forwarded") << "\ndrops:";
  bool any = false;
  for (const auto& d : s["drops"]) {
    uint64_t n = d.second.as<uint64_t>(0);
    if (n == 0) continue;
    out << (any ? ", " : " ") << d.first.as<std::string>() << " " << n;
    any = true;
  }
  out << (any ? "\n" : " none\n");
  const YAML::Node f = s["flows"];
  out << "flows: active " << Count(f, "active") << ", created "
      << Count(f, "created") << ", expired " << Count(f, "expired")
      << ", insert_failed " << Count(f, "insert_failed") << "\n";
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
  }
  out << "(- : no flow admitted under this generation)\n";
}

}  // namespace

bool IsOnlineCommand(const std::string& command) {
  return command == "stats" || command == "rules" || command == "reload" ||
         command == "generation";
}

int RunOnline(const std::string& control_path, const std::string& command,
              const std::vector<std::string>& args, std::ostream& out,
              std::ostream& err) {
  bool json = false;
  for (const std::string& arg : args) {
    if (arg == "--json") {
      json = true;
    } else {
      err << "sgatectl " << command << ": unexpected argument '" << arg
          << "'\n";
      return 1;
    }
  }
  absl::StatusOr<std::string> reply = ControlRequest(control_path, command);
  if (!reply.ok()) {
    err << "sgatectl: " << reply.status().message() << "\n";
    return 1;
  }
  YAML::Node node;
  try {
    node = YAML::Load(*reply);
  } catch (const YAML::Exception& e) {
    err << "sgatectl: unreadable reply from sgate: " << *reply << "\n";
    return 1;
  }
  if (const YAML::Node error = node["error"]; error.IsScalar()) {
    if (json) out << *reply << "\n";
    err << "sgatectl " << command << ": " << error.as<std::string>() << "\n";
    return 1;
  }
  if (json) {
    out << *reply << "\n";
  } else if (command == "stats") {
    PrintStats(node, out);
  } else if (command == "rules") {
    PrintRules(node, out);
  } else if (command == "reload") {
    out << "reloaded: generation " << Count(node, "generation") << " live\n";
  } else {
    out << Count(node, "generation") << "\n";
  }
  return 0;
}

}  // namespace sgate::control
