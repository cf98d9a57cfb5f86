#pragma once

#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sgate::control {

// The unix socket sgate and sgatectl talk over (DESIGN.md §6). A request is
// one line, "COMMAND [ARGS]"; the reply is one line of JSON, then the
// server closes the connection.
inline constexpr char kDefaultControlPath[] = "/run/sgate/control.sock";

// Server side, polled by sgate's control loop, never by a worker.
class ControlServer {
 public:
  ControlServer() = default;
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Creates the socket (and its directory), mode 0600: only its owner may
  // reload or read the counters. A stale socket file is replaced.
  absl::Status Listen(const std::string& path);

  // Serves the requests waiting now, without blocking for new ones. A
  // client gets kClientTimeoutMs to send its line, so a stuck client delays
  // the control loop by that much at most.
  using Handler = absl::FunctionRef<std::string(absl::string_view request)>;
  void Poll(Handler handler);

  static constexpr int kClientTimeoutMs = 200;
  // A request is a command and a few words; anything longer is an error.
  static constexpr size_t kMaxRequest = 4096;

 private:
  int fd_ = -1;
  std::string path_;
};

// Client side: sends `request`, returns the reply line.
absl::StatusOr<std::string> ControlRequest(const std::string& path,
                                           absl::string_view request);

}  // namespace sgate::control
