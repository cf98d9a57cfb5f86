// Fuzzes the server name extractors (dataplane/server_name.h): mutations of
// ClientHellos and HTTP requests (bit flips, forged lengths, truncation,
// splices, insertions, random bytes), each in a heap buffer of exactly its
// size so that AddressSanitizer catches any read past it. Checks, on every
// input: a found name is a lowercase host name; scanning is deterministic;
// a decision on a prefix is the decision on the whole (results other than
// kNeedMore are final, as the pending-flow reassembly relies on).
//
//   SGATE_FUZZ_INPUTS=N SGATE_SEED=S dataplane_server_name_fuzz
//
// The unit suite runs 300,000 inputs; README.md ("Fuzzing") gives the ASan
// build that runs ten million.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "dataplane/server_name.h"
#include "rules/domain_name.h"
#include "tests/support/client_hello.h"

namespace {

using sgate::dataplane::NameScan;
using sgate::dataplane::NameScanName;
using sgate::dataplane::ScanServerName;
using sgate::dataplane::ServerName;
using sgate::testing::ClientHelloBuilder;

uint64_t EnvNumber(const char* name, uint64_t otherwise) {
  const char* s = std::getenv(name);
  return s != nullptr ? std::strtoull(s, nullptr, 10) : otherwise;
}

std::vector<uint8_t> Bytes(const std::string& s) {
  return std::vector<uint8_t>(s.begin(), s.end());
}

std::vector<std::vector<uint8_t>> Corpus() {
  std::vector<std::vector<uint8_t>> c;
  c.push_back(ClientHelloBuilder().ServerName("api.github.com").Build());
  c.push_back(ClientHelloBuilder().ServerName("a.example").Grease().Build());
  c.push_back(ClientHelloBuilder().Tls12().ServerName("b.example").Build());
  c.push_back(ClientHelloBuilder().NoServerName().Build());
  c.push_back(ClientHelloBuilder().Tls12().NoExtensions().Build());
  c.push_back(ClientHelloBuilder()
                  .ServerName("pq.example")
                  .KeyShareBytes(1216)
                  .ServerNameLast()
                  .RecordSize(400)
                  .Build());
  c.push_back(
      ClientHelloBuilder().ServerName("c.example").RecordSize(3).Build());
  c.push_back(
      ClientHelloBuilder().ServerNames({{7, "x"}, {0, "d.example"}}).Build());
  c.push_back(Bytes("GET / HTTP/1.1\r\nHost: deb.debian.org\r\n\r\n"));
  c.push_back(
      Bytes("POST /upload HTTP/1.0\r\nContent-Length: 3\r\n"
            "host: API.example:8080\r\n\r\nabc"));
  c.push_back(
      Bytes("GET http://a.example/x HTTP/1.1\r\nHost: a.example\r\n"
            "User-Agent: fuzz\r\n\r\n"));
  c.push_back(
      Bytes("CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443"
            "\r\n\r\n"));
  return c;
}

class Mutator {
 public:
  explicit Mutator(uint64_t seed) : rng_(seed) {}

  uint32_t Below(uint32_t n) {
    return n == 0 ? 0 : std::uniform_int_distribution<uint32_t>(0, n - 1)(rng_);
  }

  std::vector<uint8_t> Mutate(const std::vector<std::vector<uint8_t>>& corpus) {
    std::vector<uint8_t> b = corpus[Below(corpus.size())];
    int rounds = 1 + Below(4);
    for (int r = 0; r < rounds; ++r) {
      switch (Below(8)) {
        case 0:  // flip bits
          for (uint32_t n = 1 + Below(8); n > 0 && !b.empty(); --n) {
            b[Below(b.size())] ^= 1u << Below(8);
          }
          break;
        case 1:  // an interesting byte
          if (!b.empty()) {
            static const uint8_t kBytes[] = {0,   1,   0x7F, 0x80, 0xFF, 22, 3,
                                             '.', ':', '\r', '\n', ' ',  'A'};
            b[Below(b.size())] = kBytes[Below(sizeof(kBytes))];
          }
          break;
        case 2:  // a forged 16-bit length
          if (b.size() >= 2) {
            size_t at = Below(b.size() - 1);
            uint16_t old = static_cast<uint16_t>(b[at] << 8 | b[at + 1]);
            const uint16_t kLengths[] = {0,
                                         1,
                                         0xFFFF,
                                         0x4000,
                                         0x4001,
                                         static_cast<uint16_t>(old + 1),
                                         static_cast<uint16_t>(old - 1),
                                         static_cast<uint16_t>(b.size()),
                                         static_cast<uint16_t>(Below(65536))};
            uint16_t v = kLengths[Below(std::size(kLengths))];
            b[at] = static_cast<uint8_t>(v >> 8);
            b[at + 1] = static_cast<uint8_t>(v);
          }
          break;
        case 3:  // truncate
          b.resize(Below(b.size() + 1));
          break;
        case 4: {  // splice another input in
          const std::vector<uint8_t>& other = corpus[Below(corpus.size())];
          size_t from = Below(other.size());
          size_t n = Below(other.size() - from + 1);
          size_t at = Below(b.size() + 1);
          b.insert(b.begin() + at, other.begin() + from,
                   other.begin() + from + n);
          break;
        }
        case 5: {  // insert random bytes
          size_t at = Below(b.size() + 1);
          for (uint32_t n = 1 + Below(16); n > 0; --n) {
            b.insert(b.begin() + at, static_cast<uint8_t>(Below(256)));
          }
          break;
        }
        case 6: {  // erase a range
          if (b.empty()) break;
          size_t at = Below(b.size());
          b.erase(b.begin() + at, b.begin() + at + Below(b.size() - at + 1));
          break;
        }
        default: {  // random bytes, TLS- or HTTP-looking first byte
          b.resize(Below(600));
          for (uint8_t& x : b) x = static_cast<uint8_t>(Below(256));
          if (!b.empty() && Below(2)) b[0] = Below(2) ? 22 : 'G';
        }
      }
    }
    if (b.size() > 2 * sgate::dataplane::kMaxRequestBytes) {
      b.resize(2 * sgate::dataplane::kMaxRequestBytes);
    }
    return b;
  }

 private:
  std::mt19937_64 rng_;
};

// Scans `bytes` from a heap buffer of exactly its size.
NameScan ScanExact(const std::vector<uint8_t>& bytes, size_t length,
                   ServerName* name) {
  std::unique_ptr<uint8_t[]> exact(new uint8_t[length == 0 ? 1 : length]);
  std::memcpy(exact.get(), bytes.data(), length);
  return ScanServerName(exact.get(), static_cast<uint32_t>(length), name);
}

[[noreturn]] void Fail(const char* what, const std::vector<uint8_t>& input,
                       uint64_t seed, uint64_t index) {
  std::fprintf(stderr, "server_name_fuzz: %s (seed %llu, input %llu)\n  ", what,
               static_cast<unsigned long long>(seed),
               static_cast<unsigned long long>(index));
  for (uint8_t b : input) std::fprintf(stderr, "%02x", b);
  std::fprintf(stderr, "\n");
  std::exit(1);
}

}  // namespace

int main() {
  const uint64_t inputs = EnvNumber("SGATE_FUZZ_INPUTS", 300000);
  const uint64_t seed = EnvNumber("SGATE_SEED", 1);
  const std::vector<std::vector<uint8_t>> corpus = Corpus();
  Mutator mutator(seed);
  uint64_t counts[5] = {};
  for (uint64_t i = 0; i < inputs; ++i) {
    std::vector<uint8_t> input = mutator.Mutate(corpus);
    ServerName name, again, prefix_name;
    NameScan result = ScanExact(input, input.size(), &name);
    ++counts[static_cast<int>(result)];
    if (result == NameScan::kFound) {
      if (!sgate::rules::IsHostName(name.view())) {
        Fail("found a name that is no host name", input, seed, i);
      }
    }
    if (ScanExact(input, input.size(), &again) != result ||
        (result == NameScan::kFound && again.view() != name.view())) {
      Fail("two scans disagree", input, seed, i);
    }
    // A decided prefix decides the whole.
    size_t cut = mutator.Below(input.size() + 1);
    NameScan early = ScanExact(input, cut, &prefix_name);
    if (early != NameScan::kNeedMore &&
        (early != result ||
         (early == NameScan::kFound && prefix_name.view() != name.view()))) {
      Fail("a prefix decided otherwise than the whole", input, seed, i);
    }
  }
  std::printf("server_name_fuzz: %llu inputs (seed %llu):",
              static_cast<unsigned long long>(inputs),
              static_cast<unsigned long long>(seed));
  for (int r = 0; r < 5; ++r) {
    std::printf(" %s %llu", NameScanName(static_cast<NameScan>(r)),
                static_cast<unsigned long long>(counts[r]));
  }
  std::printf("\n");
  // Mutations that never reach a name would fuzz only the first checks.
  if (counts[static_cast<int>(NameScan::kFound)] < inputs / 50) {
    std::fprintf(stderr, "server_name_fuzz: too few inputs found a name\n");
    return 1;
  }
  return 0;
}
