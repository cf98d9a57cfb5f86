#pragma once

#include <cstdint>

#include "absl/strings/string_view.h"
#include "rules/domain_name.h"

namespace sgate::dataplane {

// The name a client's first payload asks for: the server_name of a TLS
// ClientHello, or the Host of an HTTP/1.x request. sgate's own parsers,
// bounded and fuzzed (tests/dataplane/server_name_fuzz.cc): they read
// nothing outside the bytes given, allocate nothing, check every length.

// A request is decided within its first 4 KiB: a ClientHello with
// post-quantum key shares is ~1.8 KiB, a browser's HTTP request header a
// few hundred bytes. It bounds the reassembly buffer of a pending flow
// (dataplane/pending_names.h) and the work per request.
inline constexpr uint32_t kMaxRequestBytes = 4096;

// A name as rules match it: lowercase, without trailing dot or port, and
// a host name (rules::IsHostName).
struct ServerName {
  uint8_t length = 0;
  char bytes[rules::kMaxHostNameLength];

  absl::string_view view() const { return {bytes, length}; }
};

enum class NameScan : uint8_t {
  kFound,     // `*name` holds the name
  kNeedMore,  // the ClientHello or request header is not complete yet
  kTooLong,   // ... and will not be within kMaxRequestBytes
  kNoName,    // complete, naming no server: a ClientHello without
              // server_name, an HTTP request without Host
  kInvalid,   // not a TLS ClientHello or an HTTP/1.x request, malformed,
              // ambiguous (two names), or a name that is no host name
};
const char* NameScanName(NameScan scan);  // "found", "need_more", ...

// Scans the first `length` bytes of a client's stream (from its first
// byte) for the name it asks for. Only the first kMaxRequestBytes count.
// A result other than kNeedMore is final: more bytes never change it.
NameScan ScanServerName(const uint8_t* data, uint32_t length, ServerName* name);

namespace internal {
// Each protocol alone, for tests.
NameScan ScanTlsServerName(const uint8_t* data, uint32_t length,
                           ServerName* name);
NameScan ScanHttpHost(const uint8_t* data, uint32_t length, ServerName* name);
}  // namespace internal

}  // namespace sgate::dataplane
