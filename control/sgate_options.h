#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "control/control_socket.h"
#include "dataplane/port_pair.h"

namespace sgate::control {

// sgate's own options: everything after the EAL options and "--".
//   sgate [EAL options] -- --policy FILE [--pair IN:OUT]... [--node NAME]
//         [--control PATH] [--stats-interval S] [--aws-json FILE] [--watch]
// --watch reloads the policy when its file changes.
struct SgateOptions {
  std::string policy_path;
  std::optional<std::string> aws_json_path;
  std::vector<dataplane::PortPairIds> pairs;  // default {0:1}
  std::string node;
  std::string control_path = kDefaultControlPath;
  uint32_t stats_interval_seconds = 0;  // 0: no periodic stats
  bool watch = false;
};

absl::StatusOr<SgateOptions> ParseSgateOptions(
    const std::vector<std::string>& args);

inline constexpr char kSgateUsage[] =
    "usage: sgate [EAL options] -- --policy FILE [--pair IN:OUT]...\n"
    "             [--node NAME] [--control PATH] [--stats-interval S]\n"
    "             [--aws-json FILE] [--watch]\n";

}  // namespace sgate::control
