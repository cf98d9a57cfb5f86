#include "control/control_socket.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"

namespace sgate::control {
namespace {

using ::testing::HasSubstr;

std::string TempSocket() {
  return absl::StrCat(::testing::TempDir(), "sgate-test-", getpid(), "/ctl.sock");
}

// Runs a server that answers "echo: REQUEST" until stopped.
class EchoServer {
 public:
  explicit EchoServer(const std::string& path) {
    status_ = server_.Listen(path);
    thread_ = std::thread([this] {
      while (!stop_) {
        server_.Poll([](absl::string_view request) {
          return absl::StrCat(R"({"echo":")", request, R"("})");
        });
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
    });
  }
  ~EchoServer() {
    stop_ = true;
    thread_.join();
  }
  const absl::Status& status() const { return status_; }

 private:
  ControlServer server_;
  absl::Status status_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

TEST(ControlSocketTest, RequestAndReply) {
  std::string path = TempSocket();
  EchoServer server(path);
  ASSERT_TRUE(server.status().ok()) << server.status();
  absl::StatusOr<std::string> reply = ControlRequest(path, "stats");
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(*reply, R"({"echo":"stats"})");
  // Only the owner may talk to sgate.
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
}

TEST(ControlSocketTest, AStuckClientCannotHoldTheServer) {
  std::string path = TempSocket() + "2";
  EchoServer server(path);
  ASSERT_TRUE(server.status().ok());
  // A client that connects and never sends a line...
  int stuck = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::copy(path.begin(), path.end(), address.sun_path);
  ASSERT_EQ(connect(stuck, reinterpret_cast<sockaddr*>(&address),
                    sizeof(address)),
            0);
  // ...is given up on, and the next client is served.
  absl::StatusOr<std::string> reply = ControlRequest(path, "generation");
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(*reply, R"({"echo":"generation"})");
  char buffer[256] = {};
  ssize_t n = read(stuck, buffer, sizeof(buffer) - 1);
  EXPECT_GT(n, 0);
  EXPECT_THAT(std::string(buffer), HasSubstr("expected one request line"));
  close(stuck);
}

TEST(ControlSocketTest, NoServer) {
  absl::StatusOr<std::string> reply =
      ControlRequest("/nonexistent/sgate.sock", "stats");
  ASSERT_FALSE(reply.ok());
  EXPECT_THAT(std::string(reply.status().message()),
              HasSubstr("cannot reach sgate (is it running with --control?)"));
}

}  // namespace
}  // namespace sgate::control
