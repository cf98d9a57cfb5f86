#include "control/fleet_status.h"

#include "absl/strings/str_cat.h"
#include "control/fleet_layout.h"
#include "control/json_writer.h"
#include "yaml-cpp/yaml.h"

namespace sgate::control {

const char* SgateVersion() { return SGATE_VERSION; }

absl::string_view NodeStateName(NodeStatus::State state) {
  switch (state) {
    case NodeStatus::State::kOk:
      return "ok";
    case NodeStatus::State::kRejected:
      return "rejected";
    case NodeStatus::State::kNoPolicy:
      return "no_policy";
  }
  return "";
}

std::string NodeStatusJson(const NodeStatus& s) {
  JsonWriter j;
  j.BeginObject();
  j.Field("node", s.node);
  j.Field("state", NodeStateName(s.state));
  j.Field("revision", s.revision);
  j.Field("generation", s.generation);
  j.Field("source", s.source);
  if (s.state == NodeStatus::State::kRejected) {
    j.Field("rejected_revision", s.rejected_revision);
  }
  j.Field("error_count", s.error_count);
  j.Key("errors");
  j.BeginArray();
  for (size_t i = 0; i < s.errors.size() && i < NodeStatus::kMaxErrors; ++i) {
    j.String(s.errors[i]);
  }
  j.EndArray();
  j.Field("interface_count", s.interface_count);
  j.Key("interfaces");
  j.BeginArray();
  if (s.interfaces.size() <= NodeStatus::kMaxInterfaceNames) {
    for (const std::string& name : s.interfaces) j.String(name);
  }
  j.EndArray();
  j.Field("sgate_version", s.sgate_version);
  j.Field("apply_ms", s.apply_ms);
  j.Field("updated", Rfc3339(s.updated));
  j.EndObject();
  return j.str();
}

absl::StatusOr<NodeStatus> ParseNodeStatus(absl::string_view json) {
  YAML::Node n;
  try {
    n = YAML::Load(std::string(json));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a node status: ", e.msg));
  }
  if (!n.IsMap()) return absl::InvalidArgumentError("not a node status");
  auto text = [&](const char* key) {
    return n[key].IsScalar() ? n[key].Scalar() : std::string();
  };
  auto number = [&](const char* key) -> int64_t {
    try {
      return n[key].IsScalar() ? std::stoll(n[key].Scalar()) : 0;
    } catch (...) {
      return 0;
    }
  };
  auto list = [&](const char* key) {
    std::vector<std::string> out;
    if (n[key].IsSequence()) {
      for (const YAML::Node& item : n[key]) {
        if (item.IsScalar()) out.push_back(item.Scalar());
      }
    }
    return out;
  };
  NodeStatus s;
  s.node = text("node");
  const std::string state = text("state");
  if (state == "ok") {
    s.state = NodeStatus::State::kOk;
  } else if (state == "rejected") {
    s.state = NodeStatus::State::kRejected;
  } else if (state == "no_policy") {
    s.state = NodeStatus::State::kNoPolicy;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("node status: unknown state '", state, "'"));
  }
  s.revision = number("revision");
  s.generation = static_cast<uint32_t>(number("generation"));
  s.source = text("source");
  s.rejected_revision = number("rejected_revision");
  s.errors = list("errors");
  s.error_count = static_cast<size_t>(number("error_count"));
  s.interface_count = static_cast<size_t>(number("interface_count"));
  s.interfaces = list("interfaces");
  s.sgate_version = text("sgate_version");
  s.apply_ms = number("apply_ms");
  s.updated = ParseRfc3339(text("updated"));
  return s;
}

}  // namespace sgate::control
