#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace sgate::control {

// The last policy a fleet node applied, kept on its disk so that it can
// enforce it when it starts while etcd cannot be reached (`--cache FILE`).
// JSON: {"prefix": P, "revision": R, "objects": {key: value, ...}}: the
// keys under P/policy/ as they stood at revision R, from which the node
// resumes watching (R + 1) once etcd answers.
struct FleetCache {
  std::string prefix;
  int64_t revision = 0;
  std::map<std::string, std::string> objects;
};

// Written to a temporary file beside `path` (mode 0600: it is the node's
// policy), flushed to disk, then renamed over `path`: a reader sees the
// old cache or the new one, never part of one.
absl::Status WriteFleetCache(const std::string& path, const FleetCache& cache);

// kNotFound when there is no cache file.
absl::StatusOr<FleetCache> ReadFleetCache(const std::string& path);

}  // namespace sgate::control
