#include "control/control_socket.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace sgate::control {
namespace {

absl::Status Errno(absl::string_view what, const std::string& path) {
  return absl::UnavailableError(
      absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

bool MakeAddress(const std::string& path, sockaddr_un* address) {
  std::memset(address, 0, sizeof(*address));
  address->sun_family = AF_UNIX;
  if (path.size() >= sizeof(address->sun_path)) return false;
  std::memcpy(address->sun_path, path.data(), path.size());
  return true;
}

// Reads until a newline, EOF, `limit` bytes or the deadline.
std::string ReadLine(int fd, size_t limit, int timeout_ms, bool* complete) {
  std::string line;
  *complete = false;
  char buffer[512];
  while (line.size() < limit) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) return line;
    ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n <= 0) {
      *complete = !line.empty();
      return line;
    }
    line.append(buffer, n);
    size_t newline = line.find('\n');
    if (newline != std::string::npos) {
      line.resize(newline);
      *complete = true;
      return line;
    }
  }
  return line;
}

void WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    pollfd p{fd, POLLOUT, 0};
    if (poll(&p, 1, ControlServer::kClientTimeoutMs) <= 0) return;
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n <= 0) return;
    done += n;
  }
}

}  // namespace

ControlServer::~ControlServer() {
  if (fd_ >= 0) {
    close(fd_);
    unlink(path_.c_str());
  }
}

absl::Status ControlServer::Listen(const std::string& path) {
  sockaddr_un address;
  if (!MakeAddress(path, &address)) {
    return absl::InvalidArgumentError(
        absl::StrCat("control socket path too long: ", path));
  }
  std::error_code ignored;
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ignored);
  fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return Errno("cannot create the control socket", path);
  unlink(path.c_str());  // a socket left by a previous run
  // Created 0600 (umask applied while binding), not chmod'ed afterwards,
  // so there is no moment when others could connect.
  mode_t old_mask = umask(0177);
  int rc = bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  umask(old_mask);
  if (rc != 0 || listen(fd_, 16) != 0) {
    absl::Status status = Errno("cannot listen on", path);
    close(fd_);
    fd_ = -1;
    return status;
  }
  path_ = path;
  return absl::OkStatus();
}

void ControlServer::Poll(Handler handler) {
  if (fd_ < 0) return;
  for (;;) {
    int client = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) return;  // EAGAIN: nobody waiting
    bool complete = false;
    std::string request =
        ReadLine(client, kMaxRequest, kClientTimeoutMs, &complete);
    std::string reply =
        complete ? handler(request)
                 : R"({"ok":false,"error":"expected one request line"})";
    WriteAll(client, reply + "\n");
    close(client);
  }
}

absl::StatusOr<std::string> ControlRequest(const std::string& path,
                                           absl::string_view request) {
  sockaddr_un address;
  if (!MakeAddress(path, &address)) {
    return absl::InvalidArgumentError(
        absl::StrCat("control socket path too long: ", path));
  }
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Errno("cannot create a socket for", path);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) !=
      0) {
    absl::Status status = Errno(
        "cannot reach sgate (is it running with --control?) at", path);
    close(fd);
    return status;
  }
  std::string line = absl::StrCat(request, "\n");
  WriteAll(fd, line);
  bool complete = false;
  // A reload compiles a policy: give it time.
  std::string reply = ReadLine(fd, 64 << 20, 60'000, &complete);
  close(fd);
  if (!complete) {
    return absl::UnavailableError(
        absl::StrCat("no reply from sgate at ", path));
  }
  return reply;
}

}  // namespace sgate::control
