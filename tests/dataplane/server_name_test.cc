// The server name extractors on real ClientHellos and HTTP requests (made
// in the test by openssl s_client and curl, which connect to a listener of
// the test's own) and on ones built byte by byte: several TLS versions,
// GREASE, records split, no server_name, malformed lengths.
#include "dataplane/server_name.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_replace.h"
#include "tests/support/client_hello.h"

namespace sgate::dataplane {
namespace {

using sgate::testing::ClientHelloBuilder;

NameScan Scan(const std::vector<uint8_t>& bytes, std::string* name = nullptr) {
  ServerName n;
  NameScan r = ScanServerName(bytes.data(), bytes.size(), &n);
  if (name != nullptr)
    *name = r == NameScan::kFound ? std::string(n.view()) : "";
  return r;
}
std::vector<uint8_t> Bytes(const std::string& s) {
  return std::vector<uint8_t>(s.begin(), s.end());
}

// Every prefix of `bytes` shorter than the whole says kNeedMore; the whole
// says `want` (with `name` if found).
void ExpectDecidedOnlyWhenWhole(const std::vector<uint8_t>& bytes,
                                NameScan want, const std::string& name = "") {
  for (size_t n = 0; n < bytes.size(); ++n) {
    std::vector<uint8_t> prefix(bytes.begin(), bytes.begin() + n);
    ASSERT_EQ(NameScanName(Scan(prefix)), NameScanName(NameScan::kNeedMore))
        << "prefix of " << n << " of " << bytes.size() << " bytes";
  }
  std::string got;
  EXPECT_EQ(NameScanName(Scan(bytes, &got)), NameScanName(want));
  EXPECT_EQ(got, name);
}

// Runs `command` (with {port} replaced by a port of the test's own on
// 127.0.0.1) and returns the first bytes the client sends: until `done`
// says the request is whole, the client stops, or 5 s pass.
template <typename Done>
std::vector<uint8_t> CaptureClient(const std::string& command, Done done) {
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof(address);
  if (listener < 0 ||
      bind(listener, reinterpret_cast<sockaddr*>(&address), size) != 0 ||
      listen(listener, 1) != 0 ||
      getsockname(listener, reinterpret_cast<sockaddr*>(&address), &size) !=
          0) {
    ADD_FAILURE() << "cannot listen on 127.0.0.1";
    return {};
  }
  std::string line = absl::StrReplaceAll(
      command, {{"{port}", std::to_string(ntohs(address.sin_port))}});
  std::thread client([line] {
    std::string run = "timeout 5 " + line + " </dev/null >/dev/null 2>&1";
    (void)std::system(run.c_str());
  });
  std::vector<uint8_t> bytes;
  pollfd p{listener, POLLIN, 0};
  if (poll(&p, 1, 5000) == 1) {
    int connection = accept(listener, nullptr, nullptr);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (connection >= 0 && !done(bytes) &&
           std::chrono::steady_clock::now() < deadline) {
      pollfd q{connection, POLLIN, 0};
      if (poll(&q, 1, 500) != 1) continue;
      uint8_t buffer[4096];
      ssize_t n = read(connection, buffer, sizeof(buffer));
      if (n <= 0) break;
      bytes.insert(bytes.end(), buffer, buffer + n);
    }
    if (connection >= 0) close(connection);
  }
  close(listener);
  client.join();
  return bytes;
}

bool HaveTool(const char* tool) {
  return std::system(
             (std::string("command -v ") + tool + " >/dev/null").c_str()) == 0;
}

// A ClientHello is whole when the scanner stops asking for more.
std::vector<uint8_t> RealClientHello(const std::string& command) {
  return CaptureClient(command, [](const std::vector<uint8_t>& b) {
    ServerName n;
    return !b.empty() &&
           ScanServerName(b.data(), b.size(), &n) != NameScan::kNeedMore;
  });
}

struct RealClient {
  const char* description;
  const char* command;
  NameScan want;
  const char* name;
};

TEST(ServerNameTest, RealClientHellos) {
  if (!HaveTool("openssl") || !HaveTool("curl")) {
    GTEST_SKIP() << "openssl and curl are in scripts/bootstrap";
  }
  const RealClient kClients[] = {
      {"openssl TLS 1.3",
       "openssl s_client -connect 127.0.0.1:{port} "
       "-servername api.github.com -tls1_3",
       NameScan::kFound, "api.github.com"},
      {"openssl TLS 1.2",
       "openssl s_client -connect 127.0.0.1:{port} "
       "-servername S3.AmazonAWS.com -tls1_2",
       NameScan::kFound, "s3.amazonaws.com"},
      {"openssl TLS 1.1",
       "openssl s_client -connect 127.0.0.1:{port} "
       "-servername old.example -tls1_1 "
       "-cipher DEFAULT@SECLEVEL=0",
       NameScan::kFound, "old.example"},
      {"openssl TLS 1.0",
       "openssl s_client -connect 127.0.0.1:{port} "
       "-servername older.example -tls1 "
       "-cipher DEFAULT@SECLEVEL=0",
       NameScan::kFound, "older.example"},
      {"openssl without SNI",
       "openssl s_client -connect 127.0.0.1:{port} "
       "-noservername",
       NameScan::kNoName, ""},
      {"curl",
       "curl -sk --resolve pypi.org:{port}:127.0.0.1 "
       "https://pypi.org:{port}/simple/",
       NameScan::kFound, "pypi.org"},
      {"curl TLS 1.2 only",
       "curl -sk --tls-max 1.2 --resolve "
       "deb.debian.org:{port}:127.0.0.1 "
       "https://deb.debian.org:{port}/",
       NameScan::kFound, "deb.debian.org"},
  };
  for (const RealClient& c : kClients) {
    std::vector<uint8_t> hello = RealClientHello(c.command);
    ASSERT_FALSE(hello.empty()) << c.description << ": nothing captured";
    std::string name;
    EXPECT_EQ(NameScanName(Scan(hello, &name)), NameScanName(c.want))
        << c.description;
    EXPECT_EQ(name, c.name) << c.description;
    // The ClientHello is whole only at its last byte (a real client sends
    // nothing after it before the server answers).
    std::vector<uint8_t> short_one(hello.begin(), hello.end() - 1);
    EXPECT_EQ(Scan(short_one), NameScan::kNeedMore) << c.description;
  }
}

TEST(ServerNameTest, RealHttpRequests) {
  if (!HaveTool("curl")) GTEST_SKIP() << "curl is in scripts/bootstrap";
  auto header_done = [](const std::vector<uint8_t>& b) {
    std::string s(b.begin(), b.end());
    return s.find("\r\n\r\n") != std::string::npos;
  };
  std::vector<uint8_t> get = CaptureClient(
      "curl -s --resolve Deb.Debian.org:{port}:127.0.0.1 "
      "http://Deb.Debian.org:{port}/debian/",
      header_done);
  std::string name;
  EXPECT_EQ(Scan(get, &name), NameScan::kFound);
  EXPECT_EQ(name, "deb.debian.org");  // lowercased, port stripped
  std::vector<uint8_t> post = CaptureClient(
      "curl -s -d 'x=1' -H 'Host: api.example.' http://127.0.0.1:{port}/p",
      header_done);
  EXPECT_EQ(Scan(post, &name), NameScan::kFound);
  EXPECT_EQ(name, "api.example");  // trailing dot dropped
  std::vector<uint8_t> http10 = CaptureClient(
      "curl -s -0 -H 'Host:' http://127.0.0.1:{port}/", header_done);
  EXPECT_EQ(Scan(http10), NameScan::kNoName);
}

TEST(ServerNameTest, BuiltClientHellos) {
  std::string name;
  EXPECT_EQ(
      Scan(ClientHelloBuilder().ServerName("API.GitHub.com").Build(), &name),
      NameScan::kFound);
  EXPECT_EQ(name, "api.github.com");
  // GREASE suites and extensions are skipped like any unknown one.
  EXPECT_EQ(Scan(ClientHelloBuilder().ServerName("a.example").Grease().Build(),
                 &name),
            NameScan::kFound);
  EXPECT_EQ(name, "a.example");
  EXPECT_EQ(
      Scan(ClientHelloBuilder().Tls12().ServerName("b.example").Build(), &name),
      NameScan::kFound);
  EXPECT_EQ(name, "b.example");
  // server_name after a post-quantum key share (X25519Kyber768: 1,216
  // bytes), in records of 512 bytes.
  std::vector<uint8_t> big = ClientHelloBuilder()
                                 .ServerName("pq.example")
                                 .KeyShareBytes(1216)
                                 .ServerNameLast()
                                 .Grease()
                                 .RecordSize(512)
                                 .Build();
  EXPECT_GT(big.size(), 1400u);
  ExpectDecidedOnlyWhenWhole(big, NameScan::kFound, "pq.example");
  // A handshake header split between records of 1 and 3 bytes.
  ExpectDecidedOnlyWhenWhole(
      ClientHelloBuilder().ServerName("c.example").RecordSize(3).Build(),
      NameScan::kFound, "c.example");
  ExpectDecidedOnlyWhenWhole(
      ClientHelloBuilder().ServerName("d.example").Build(), NameScan::kFound,
      "d.example");
  // Other name types are skipped; one host_name decides.
  EXPECT_EQ(Scan(ClientHelloBuilder()
                     .ServerNames({{7, "whatever"}, {0, "e.example."}})
                     .Build(),
                 &name),
            NameScan::kFound);
  EXPECT_EQ(name, "e.example");
}

TEST(ServerNameTest, ClientHellosWithoutAName) {
  EXPECT_EQ(Scan(ClientHelloBuilder().NoServerName().Build()),
            NameScan::kNoName);
  EXPECT_EQ(Scan(ClientHelloBuilder().Tls12().NoExtensions().Build()),
            NameScan::kNoName);
  EXPECT_EQ(Scan(ClientHelloBuilder().ServerNames({{7, "x"}}).Build()),
            NameScan::kNoName);
}

TEST(ServerNameTest, MalformedClientHellos) {
  std::vector<uint8_t> good =
      ClientHelloBuilder().ServerName("a.example").Build();
  ASSERT_EQ(Scan(good), NameScan::kFound);
  // Offsets in `good`: record header 0-4, handshake header 5-8, version
  // 9-10, random 11-42, session id length 43, session id 44-75, suites
  // length 76-77.
  auto poked = [&](size_t at, uint8_t value) {
    std::vector<uint8_t> b = good;
    b[at] = value;
    return Scan(b);
  };
  EXPECT_EQ(poked(0, 23), NameScan::kInvalid);     // application data
  EXPECT_EQ(poked(1, 2), NameScan::kInvalid);      // not TLS 1.x
  EXPECT_EQ(poked(5, 2), NameScan::kInvalid);      // server_hello
  EXPECT_EQ(poked(43, 33), NameScan::kInvalid);    // session id > 32
  EXPECT_EQ(poked(77, 11), NameScan::kInvalid);    // odd suites length
  EXPECT_EQ(poked(76, 0xFF), NameScan::kInvalid);  // suites past the end
  // A record longer than TLS allows.
  std::vector<uint8_t> b = good;
  b[3] = 0x40;
  b[4] = 0x01;
  EXPECT_EQ(Scan(b), NameScan::kInvalid);
  // A handshake length past the bound is never decided.
  b = good;
  b[6] = 0x01;
  EXPECT_EQ(Scan(b), NameScan::kTooLong);
  // Extensions length disagreeing with the ClientHello's.
  std::vector<uint8_t> message =
      ClientHelloBuilder().ServerName("a.example").Message();
  size_t extensions = 4 + 2 + 32 + 1 + 32 + 2 + 10 + 2;  // its length field
  for (int delta : {-1, +1}) {
    std::vector<uint8_t> m = message;
    uint16_t n =
        static_cast<uint16_t>((m[extensions] << 8 | m[extensions + 1]) + delta);
    m[extensions] = n >> 8;
    m[extensions + 1] = n & 0xFF;
    std::vector<uint8_t> record = {22, 3, 1,
                                   static_cast<uint8_t>(m.size() >> 8),
                                   static_cast<uint8_t>(m.size())};
    record.insert(record.end(), m.begin(), m.end());
    EXPECT_EQ(Scan(record), NameScan::kInvalid) << delta;
  }
  // Two host names, two server_name extensions, a bad name: ambiguous or
  // no host name.
  EXPECT_EQ(Scan(ClientHelloBuilder()
                     .ServerNames({{0, "a.example"}, {0, "b.example"}})
                     .Build()),
            NameScan::kInvalid);
  std::vector<uint8_t> twice_body = {0,   12,  0,   0,   9,   'b', '.',
                                     'e', 'x', 'a', 'm', 'p', 'l', 'e'};
  EXPECT_EQ(Scan(ClientHelloBuilder()
                     .ServerName("a.example")
                     .Extension(ClientHelloBuilder::kServerName, twice_body)
                     .Build()),
            NameScan::kInvalid);
  EXPECT_EQ(Scan(ClientHelloBuilder().ServerName("a..example").Build()),
            NameScan::kInvalid);
  EXPECT_EQ(Scan(ClientHelloBuilder()
                     .ServerName(std::string("a\0b.example", 11))
                     .Build()),
            NameScan::kInvalid);
  EXPECT_EQ(Scan(ClientHelloBuilder().ServerName("").Build()),
            NameScan::kInvalid);
  EXPECT_EQ(Scan(ClientHelloBuilder()
                     .ServerName("b\xC3\xBC"
                                 "cher.de")
                     .Build()),
            NameScan::kInvalid);
  // The server_name list's own length disagreeing with the extension's.
  std::vector<uint8_t> short_list = {0,   9,   0,   0,   9,   'b', '.',
                                     'e', 'x', 'a', 'm', 'p', 'l', 'e'};
  EXPECT_EQ(Scan(ClientHelloBuilder()
                     .NoServerName()
                     .Extension(ClientHelloBuilder::kServerName, short_list)
                     .Build()),
            NameScan::kInvalid);
}

TEST(ServerNameTest, HttpRequests) {
  std::string name;
  EXPECT_EQ(Scan(Bytes("GET / HTTP/1.1\r\nHost: Deb.Debian.org:80\r\n"
                       "Accept: */*\r\n\r\n"),
                 &name),
            NameScan::kFound);
  EXPECT_EQ(name, "deb.debian.org");
  EXPECT_EQ(Scan(Bytes("POST /x HTTP/1.0\r\nUser-Agent: t\r\nhost:\t"
                       "api.example \r\n\r\nbody"),
                 &name),
            NameScan::kFound);
  EXPECT_EQ(name, "api.example");
  // An absolute-form target names the host; Host must agree.
  EXPECT_EQ(Scan(Bytes("GET http://A.example:8080/x HTTP/1.1\r\n"
                       "Host: a.example:8080\r\n\r\n"),
                 &name),
            NameScan::kFound);
  EXPECT_EQ(name, "a.example");
  EXPECT_EQ(Scan(Bytes("GET http://evil.example/ HTTP/1.1\r\n"
                       "Host: a.example\r\n\r\n")),
            NameScan::kInvalid);
  EXPECT_EQ(Scan(Bytes("GET / HTTP/1.1\r\nAccept: */*\r\n\r\n")),
            NameScan::kNoName);
  ExpectDecidedOnlyWhenWhole(
      Bytes("GET /index.html HTTP/1.1\r\nHost: b.example\r\nX: y\r\n\r\n"),
      NameScan::kFound, "b.example");
  // Not HTTP/1.x, or not HTTP at all: decided on the first bytes.
  EXPECT_EQ(Scan(Bytes("SSH-2.0-OpenSSH_9.2\r\n")), NameScan::kInvalid);
  EXPECT_EQ(Scan(Bytes("get / HTTP/1.1\r\n")), NameScan::kInvalid);
  EXPECT_EQ(Scan(Bytes("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")),
            NameScan::kInvalid);
  EXPECT_EQ(Scan(Bytes("\x16")), NameScan::kNeedMore);
  EXPECT_EQ(Scan(Bytes("G")), NameScan::kNeedMore);
  EXPECT_EQ(Scan(Bytes("ABCDEFGHIJKLMNOPQRSTUVWXYZ")), NameScan::kInvalid);
  // Ambiguous or malformed headers.
  EXPECT_EQ(Scan(Bytes("GET / HTTP/1.1\r\nHost: a.example\r\nHost: b.example"
                       "\r\n\r\n")),
            NameScan::kInvalid);
  EXPECT_EQ(Scan(Bytes("GET / HTTP/1.1\r\nX: y\r\n Host: b.example\r\n\r\n")),
            NameScan::kInvalid);
  EXPECT_EQ(Scan(Bytes("GET / HTTP/1.1\nHost: a.example\n\n")),
            NameScan::kInvalid);
  EXPECT_EQ(Scan(Bytes("GET / HTTP/1.1\r\nHost: [2001:db8::1]:80\r\n\r\n")),
            NameScan::kInvalid);
  EXPECT_EQ(Scan(Bytes("GET / HTTP/1.1\r\nHost: a.example:\r\n\r\n")),
            NameScan::kInvalid);
  EXPECT_EQ(Scan(Bytes("GET / HTTP/1.1\r\nHost: u@a.example\r\n\r\n")),
            NameScan::kInvalid);
  EXPECT_EQ(Scan(Bytes("GET / HTTP/1.1\r\nHo st: a.example\r\n\r\n")),
            NameScan::kInvalid);
  // A header that does not end within the bound.
  std::string huge = "GET / HTTP/1.1\r\nCookie: " + std::string(5000, 'x');
  EXPECT_EQ(Scan(Bytes(huge)), NameScan::kTooLong);
}

}  // namespace
}  // namespace sgate::dataplane
