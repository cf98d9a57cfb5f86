#pragma once

#include <chrono>
#include <string>

#include "absl/status/status.h"

namespace sgate::control {

// Tells when a file has changed, for `sgate --watch`. Watches the file's
// directory rather than the file, so an editor or a config tool that
// replaces the file by renaming a new one over it (atomic rename) is seen
// as well as a write in place. Changes are debounced: Changed() reports
// once, after the file has been quiet for kQuiet, however many writes
// made up the change.
class FileWatch {
 public:
  FileWatch() = default;
  ~FileWatch();
  FileWatch(const FileWatch&) = delete;
  FileWatch& operator=(const FileWatch&) = delete;

  absl::Status Watch(const std::string& path);

  // Non-blocking; call it from a loop.
  bool Changed();

  // Long enough to cover a writer's few writes, short enough to feel
  // immediate to an operator.
  static constexpr std::chrono::milliseconds kQuiet{200};

 private:
  int fd_ = -1;
  std::string name_;  // the file's name within the watched directory
  bool pending_ = false;
  std::chrono::steady_clock::time_point last_event_;
};

}  // namespace sgate::control
