#include "control/file_watch.h"

#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"

namespace sgate::control {

FileWatch::~FileWatch() {
  if (fd_ >= 0) close(fd_);
}

absl::Status FileWatch::Watch(const std::string& path) {
  std::filesystem::path file(path);
  std::filesystem::path directory = file.parent_path();
  if (directory.empty()) directory = ".";
  name_ = file.filename().string();
  fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd_ < 0 ||
      inotify_add_watch(fd_, directory.c_str(),
                        IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE) < 0) {
    return absl::UnavailableError(absl::StrCat(
        "cannot watch ", directory.string(), ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

bool FileWatch::Changed() {
  if (fd_ < 0) return false;
  alignas(inotify_event) char buffer[4096];
  for (;;) {
    ssize_t n = read(fd_, buffer, sizeof(buffer));
    if (n <= 0) break;
    for (char* p = buffer; p < buffer + n;) {
      auto* event = reinterpret_cast<inotify_event*>(p);
      if (event->len > 0 && name_ == event->name) {
        pending_ = true;
        last_event_ = std::chrono::steady_clock::now();
      }
      p += sizeof(inotify_event) + event->len;
    }
  }
  if (pending_ && std::chrono::steady_clock::now() - last_event_ >= kQuiet) {
    pending_ = false;
    return true;
  }
  return false;
}

}  // namespace sgate::control
