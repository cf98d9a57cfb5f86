#include "control/fleet_commands.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "control/etcd_client.h"
#include "control/fleet_layout.h"
#include "control/fleet_objects.h"
#include "control/fleet_push.h"
#include "control/fleet_status.h"
#include "control/json_writer.h"
#include "control/offline_commands.h"
#include "rules/policy_writer.h"

namespace sgate::control {
namespace {

constexpr char kFleetUsage[] =
    "usage: sgatectl fleet push FILE|- [--aws-json F] [--expect-revision N] "
    "[--json] ETCD\n"
    "       sgatectl fleet status [--json] ETCD\n"
    "       sgatectl fleet wait --revision N [--timeout S] ETCD\n"
    "       sgatectl fleet get [--revision N] ETCD\n"
    "where ETCD is --etcd URL[,URL...] [--etcd-prefix P] [--etcd-cacert F "
    "--etcd-cert F --etcd-key F]\n";

struct FleetOptions {
  EtcdOptions etcd;
  std::vector<std::string> positional;
  std::optional<std::string> aws_json;
  std::optional<int64_t> revision;         // get, wait
  std::optional<int64_t> expect_revision;  // push
  double timeout_seconds = 30;             // wait
  bool json = false;
};

bool Fail(std::ostream& err, absl::string_view message) {
  err << "sgatectl fleet: " << message << "\n";
  return false;
}

bool ParseFleetOptions(const std::vector<std::string>& args,
                       FleetOptions& options, std::ostream& err) {
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& arg = args[i];
    absl::StatusOr<bool> etcd = ParseEtcdOption(args, i, options.etcd);
    if (!etcd.ok()) return Fail(err, etcd.status().message());
    if (*etcd) continue;
    if (arg == "--json") {
      options.json = true;
      continue;
    }
    if (arg.rfind("--", 0) != 0 || arg == "-") {
      options.positional.push_back(arg);
      continue;
    }
    if (arg != "--aws-json" && arg != "--revision" &&
        arg != "--expect-revision" && arg != "--timeout") {
      return Fail(err, absl::StrCat("unknown option ", arg, "\n", kFleetUsage));
    }
    if (i + 1 == args.size()) return Fail(err, arg + " needs a value");
    const std::string& value = args[++i];
    int64_t number = 0;
    if (arg == "--aws-json") {
      options.aws_json = value;
    } else if (arg == "--timeout") {
      if (!absl::SimpleAtod(value, &options.timeout_seconds) ||
          options.timeout_seconds <= 0) {
        return Fail(
            err, absl::StrCat("--timeout expects seconds, got '", value, "'"));
      }
    } else if (!absl::SimpleAtoi(value, &number) || number < 0) {
      return Fail(err,
                  absl::StrCat(arg, " expects a revision, got '", value, "'"));
    } else {
      (arg == "--revision" ? options.revision : options.expect_revision) =
          number;
    }
  }
  if (absl::Status s = ValidateEtcdOptions(options.etcd); !s.ok()) {
    return Fail(err, absl::StrCat(s.message(), "\n", kFleetUsage));
  }
  return true;
}

// "3s", "4m", "2h", "5d": how long ago a node last reported.
std::string Age(int64_t seconds) {
  if (seconds < 0) seconds = 0;
  if (seconds < 120) return absl::StrCat(seconds, "s");
  if (seconds < 7200) return absl::StrCat(seconds / 60, "m");
  if (seconds < 172800) return absl::StrCat(seconds / 3600, "h");
  return absl::StrCat(seconds / 86400, "d");
}

// The policy's newest commit revision and every live node's status.
struct FleetState {
  int64_t revision = 0;
  std::vector<NodeStatus> nodes;
  std::vector<std::string> unreadable;  // keys whose value is no status
};

absl::StatusOr<FleetState> ReadFleetState(EtcdClient& etcd,
                                          const FleetLayout& layout) {
  FleetState state;
  absl::StatusOr<EtcdRange> commit = etcd.Range(layout.CommitKey(), "");
  if (!commit.ok()) return commit.status();
  if (!commit->kvs.empty()) state.revision = commit->kvs[0].mod_revision;
  absl::StatusOr<EtcdRange> nodes =
      etcd.Range(layout.NodesPrefix(), PrefixRangeEnd(layout.NodesPrefix()));
  if (!nodes.ok()) return nodes.status();
  for (const EtcdKeyValue& kv : nodes->kvs) {
    absl::StatusOr<NodeStatus> status = ParseNodeStatus(kv.value);
    if (status.ok()) {
      state.nodes.push_back(*std::move(status));
    } else {
      state.unreadable.push_back(kv.key);
    }
  }
  return state;
}

int Push(const FleetOptions& options, std::ostream& out, std::ostream& err) {
  if (options.positional.size() != 1) {
    err << kFleetUsage;
    return 1;
  }
  // "-": the policy on standard input (`fleet get | fleet push -`).
  const std::string path =
      options.positional[0] == "-" ? "/dev/stdin" : options.positional[0];
  rules::LoadOptions load;
  load.aws_json_path = options.aws_json;
  std::optional<rules::Policy> policy =
      LoadPolicyReportingErrors(path, load, err);
  if (!policy) return 1;
  // Compiled once with every interface enforced: each node's table is a
  // part of this one, so a policy that compiles here compiles on every node.
  rules::Policy everywhere = *policy;
  for (auto& [name, interface] : everywhere.interfaces) interface.node.reset();
  absl::StatusOr<CompiledStats> compiled = CompileInProcess(everywhere, "");
  if (!compiled.ok()) {
    err << path << ": cannot compile: " << compiled.status().message()
        << "\nnothing written\n";
    return 1;
  }
  EtcdClient etcd(options.etcd);
  FleetLayout layout(options.etcd.prefix);
  absl::StatusOr<PushResult> pushed =
      PushPolicy(etcd, layout, *policy, options.expect_revision);
  if (!pushed.ok()) {
    err << "sgatectl fleet push: " << pushed.status().message() << "\n";
    return 1;
  }
  const PushPlan& plan = pushed->plan;
  if (options.json) {
    JsonWriter j;
    j.BeginObject();
    j.Field("revision", pushed->revision);
    j.Field("changed", pushed->changed);
    j.Field("written", plan.puts.size());
    j.Field("deleted", plan.deletes.size());
    j.Field("unchanged", plan.unchanged);
    j.Field("transactions", pushed->transactions);
    j.Field("bytes", pushed->bytes_written);
    j.EndObject();
    out << j.str() << "\n";
  } else if (!pushed->changed) {
    out << "revision " << pushed->revision << ": no change, nothing written ("
        << plan.unchanged << " objects)\n";
  } else {
    out << "revision " << pushed->revision << ": " << plan.puts.size()
        << " written, " << plan.deletes.size() << " deleted, " << plan.unchanged
        << " unchanged (" << pushed->bytes_written << " bytes in "
        << pushed->transactions
        << (pushed->transactions == 1 ? " transaction" : " transactions")
        << ")\n";
  }
  return 0;
}

void PrintStatusJson(const FleetState& state, std::ostream& out) {
  const int64_t now = UnixNow();
  JsonWriter j;
  j.BeginObject();
  j.Field("revision", state.revision);
  j.Key("nodes");
  j.BeginArray();
  for (const NodeStatus& s : state.nodes) {
    j.BeginObject();
    j.Field("node", s.node);
    j.Field("state", NodeStateName(s.state));
    j.Field("revision", s.revision);
    j.Field("lagging", s.revision < state.revision);
    j.Field("generation", s.generation);
    j.Field("source", s.source);
    if (s.rejected_revision != 0) {
      j.Field("rejected_revision", s.rejected_revision);
    }
    j.Field("error_count", s.error_count);
    j.Key("errors");
    j.BeginArray();
    for (const std::string& e : s.errors) j.String(e);
    j.EndArray();
    j.Field("interface_count", s.interface_count);
    j.Key("interfaces");
    j.BeginArray();
    for (const std::string& name : s.interfaces) j.String(name);
    j.EndArray();
    j.Field("sgate_version", s.sgate_version);
    j.Field("apply_ms", s.apply_ms);
    j.Field("updated", Rfc3339(s.updated));
    j.Field("age_seconds", now - s.updated);
    j.EndObject();
  }
  j.EndArray();
  j.EndObject();
  out << j.str() << "\n";
}

int Status(const FleetOptions& options, std::ostream& out, std::ostream& err) {
  EtcdClient etcd(options.etcd);
  FleetLayout layout(options.etcd.prefix);
  absl::StatusOr<FleetState> state = ReadFleetState(etcd, layout);
  if (!state.ok()) {
    err << "sgatectl fleet status: " << state.status().message() << "\n";
    return 1;
  }
  if (options.json) {
    PrintStatusJson(*state, out);
    return 0;
  }
  size_t lagging = 0;
  for (const NodeStatus& s : state->nodes)
    lagging += s.revision < state->revision;
  out << "policy revision " << state->revision << " under " << layout.prefix()
      << ": " << state->nodes.size() << " live node(s), " << lagging
      << " lagging\n";
  out << absl::StrFormat("%-20s %-9s %9s %4s %10s %10s %6s  %s\n", "node",
                         "state", "revision", "", "generation", "interfaces",
                         "age", "first error");
  const int64_t now = UnixNow();
  for (const NodeStatus& s : state->nodes) {
    out << absl::StrFormat("%-20s %-9s %9d %4s %10d %10d %6s  %s\n", s.node,
                           NodeStateName(s.state), s.revision,
                           s.revision < state->revision ? "LAG" : "",
                           s.generation, s.interface_count,
                           Age(now - s.updated),
                           s.errors.empty() ? "" : s.errors[0]);
  }
  for (const std::string& key : state->unreadable) {
    out << key << ": not a node status\n";
  }
  return 0;
}

int Wait(const FleetOptions& options, std::ostream& out, std::ostream& err) {
  if (!options.revision) {
    err << "sgatectl fleet wait: --revision N is required\n" << kFleetUsage;
    return 1;
  }
  const int64_t want = *options.revision;
  EtcdClient etcd(options.etcd);
  FleetLayout layout(options.etcd.prefix);
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(static_cast<int64_t>(
                            options.timeout_seconds * 1000));
  absl::StatusOr<FleetState> state;
  while (true) {
    state = ReadFleetState(etcd, layout);
    if (state.ok() && !state->nodes.empty()) {
      std::vector<const NodeStatus*> behind;
      std::vector<const NodeStatus*> refused;
      for (const NodeStatus& s : state->nodes) {
        if (s.revision >= want) continue;
        behind.push_back(&s);
        if (s.rejected_revision >= want) refused.push_back(&s);
      }
      if (behind.empty()) {
        out << "all " << state->nodes.size()
            << " live node(s) enforce revision " << want << " or later\n";
        return 0;
      }
      if (!refused.empty()) {
        for (const NodeStatus* s : refused) {
          err << s->node << ": refused revision " << s->rejected_revision
              << ", enforces " << s->revision << ": "
              << (s->errors.empty() ? "" : s->errors[0]) << "\n";
        }
        return 1;
      }
    }
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (!state.ok()) {
    err << "sgatectl fleet wait: " << state.status().message() << "\n";
    return 1;
  }
  if (state->nodes.empty()) {
    err << "sgatectl fleet wait: no live node under " << layout.NodesPrefix()
        << "\n";
    return 1;
  }
  err << "timed out waiting for revision " << want << "; lagging:\n";
  for (const NodeStatus& s : state->nodes) {
    if (s.revision >= want) continue;
    err << "  " << s.node << ": revision " << s.revision << ", "
        << NodeStateName(s.state) << "\n";
  }
  return 1;
}

int Get(const FleetOptions& options, std::ostream& out, std::ostream& err) {
  EtcdClient etcd(options.etcd);
  FleetObjects objects{FleetLayout(options.etcd.prefix)};
  absl::StatusOr<int64_t> read =
      ReadCommittedPolicy(etcd, options.revision.value_or(0), objects);
  if (!read.ok()) {
    err << "sgatectl fleet get: " << read.status().message() << "\n";
    return 1;
  }
  if (objects.commit_revision() == 0) {
    err << "sgatectl fleet get: no policy committed under "
        << objects.layout().PolicyPrefix() << "\n";
    return 1;
  }
  absl::StatusOr<rules::Policy> policy = objects.Assemble();
  if (!policy.ok()) {
    err << policy.status().message() << "\nrevision "
        << objects.commit_revision() << ": nodes refuse this policy\n";
    return 1;
  }
  out << "# " << objects.layout().prefix() << " revision "
      << objects.commit_revision() << "\n"
      << rules::WritePolicyYaml(*policy);
  return 0;
}

}  // namespace

int RunFleet(const std::string&, const std::vector<std::string>& args,
             std::ostream& out, std::ostream& err) {
  if (args.empty()) {
    err << kFleetUsage;
    return 1;
  }
  FleetOptions options;
  if (!ParseFleetOptions(args, options, err)) return 1;
  const std::string& command = args[0];
  if (command == "push") return Push(options, out, err);
  if (command == "status") return Status(options, out, err);
  if (command == "wait") return Wait(options, out, err);
  if (command == "get") return Get(options, out, err);
  err << "sgatectl fleet: unknown command '" << command << "'\n" << kFleetUsage;
  return 1;
}

}  // namespace sgate::control
