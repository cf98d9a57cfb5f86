#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sgate::control {

// What a fleet node reports under P/nodes/NAME (JSON, under its lease):
// which policy revision it enforces and how the last one went. It holds
// no secret: no key, certificate or endpoint credential, only names the
// policy already contains.
struct NodeStatus {
  enum class State : uint8_t {
    kOk,        // enforcing the newest revision it has seen
    kRejected,  // the newest revision was refused; an older one is live
    kNoPolicy,  // nothing to enforce: every packet is dropped (no_policy)
  };
  std::string node;
  State state = State::kNoPolicy;
  int64_t revision = 0;     // the revision enforced (0: none)
  uint32_t generation = 0;  // sgate's policy generation
  // Where the enforced policy came from: "etcd", "cache" (the node's cache
  // file, at start; still the newest revision if etcd has no newer one),
  // or "none".
  std::string source = "none";
  int64_t rejected_revision = 0;  // kRejected: the refused revision
  // kRejected: the first errors, "P/policy/...:line:col: message", and
  // how many there were in all.
  std::vector<std::string> errors;
  size_t error_count = 0;
  // Interfaces enforced on this node; their names when there are few.
  size_t interface_count = 0;
  std::vector<std::string> interfaces;
  std::string sgate_version;
  // How long the last revision took to apply: assembly is the agent's,
  // this is the control loop's compile and RCU publish.
  int64_t apply_ms = 0;
  int64_t updated = 0;  // seconds since the epoch (RFC 3339 in the JSON)

  // At most this many errors and interface names are written: the status
  // of a thousand nodes stays small to store and to watch.
  static constexpr size_t kMaxErrors = 10;
  static constexpr size_t kMaxInterfaceNames = 32;
};

absl::string_view NodeStateName(NodeStatus::State state);  // "ok", ...

// The version sgate was built as (meson's project version).
const char* SgateVersion();

std::string NodeStatusJson(const NodeStatus& status);
absl::StatusOr<NodeStatus> ParseNodeStatus(absl::string_view json);

}  // namespace sgate::control
