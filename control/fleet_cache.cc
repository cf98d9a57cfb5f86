#include "control/fleet_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "control/json_writer.h"
#include "yaml-cpp/yaml.h"

namespace sgate::control {
namespace {

absl::Status Errno(absl::string_view what, const std::string& path) {
  return absl::UnavailableError(
      absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

}  // namespace

absl::Status WriteFleetCache(const std::string& path, const FleetCache& cache) {
  JsonWriter j;
  j.BeginObject();
  j.Field("prefix", cache.prefix);
  j.Field("revision", cache.revision);
  j.Key("objects");
  j.BeginObject();
  for (const auto& [key, value] : cache.objects) j.Field(key, value);
  j.EndObject();
  j.EndObject();
  const std::string text = j.str() + "\n";

  const std::string temporary = absl::StrCat(path, ".tmp.", getpid());
  int fd =
      open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("cannot create", temporary);
  // O_CREAT's mode does not apply to a file left by an earlier crash.
  fchmod(fd, 0600);
  size_t written = 0;
  while (written < text.size()) {
    ssize_t n = write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      absl::Status error = Errno("cannot write", temporary);
      close(fd);
      unlink(temporary.c_str());
      return error;
    }
    written += static_cast<size_t>(n);
  }
  if (fsync(fd) != 0 || close(fd) != 0) {
    absl::Status error = Errno("cannot flush", temporary);
    unlink(temporary.c_str());
    return error;
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    absl::Status error = Errno("cannot rename the cache to", path);
    unlink(temporary.c_str());
    return error;
  }
  return absl::OkStatus();
}

absl::StatusOr<FleetCache> ReadFleetCache(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) {
      return absl::NotFoundError(absl::StrCat("no cache file ", path));
    }
    return Errno("cannot read", path);
  }
  std::ostringstream text;
  text << in.rdbuf();
  YAML::Node root;
  try {
    root = YAML::Load(text.str());
  } catch (const YAML::Exception& e) {
    return absl::DataLossError(
        absl::StrCat(path, ":", e.mark.line + 1, ":", e.mark.column + 1,
                     ": the cache is not JSON: ", e.msg));
  }
  FleetCache cache;
  const YAML::Node objects = root["objects"];
  if (!root.IsMap() || !root["prefix"].IsScalar() ||
      !root["revision"].IsScalar() || !objects.IsMap()) {
    return absl::DataLossError(absl::StrCat(
        path, ": not a cache file (expected prefix, revision and objects)"));
  }
  cache.prefix = root["prefix"].Scalar();
  try {
    cache.revision = std::stoll(root["revision"].Scalar());
  } catch (...) {
    return absl::DataLossError(
        absl::StrCat(path, ": revision is not a number"));
  }
  for (const auto& entry : objects) {
    if (!entry.first.IsScalar() || !entry.second.IsScalar()) {
      return absl::DataLossError(
          absl::StrCat(path, ": objects must map keys to strings"));
    }
    cache.objects[entry.first.Scalar()] = entry.second.Scalar();
  }
  return cache;
}

}  // namespace sgate::control
