#include "dataplane/server_name.h"

#include <algorithm>
#include <cstring>

namespace sgate::dataplane {
namespace {

// TLS (RFC 8446 §5.1, §4.1.2; RFC 6066 §3).
constexpr uint8_t kContentTypeHandshake = 22;
constexpr uint8_t kHandshakeClientHello = 1;
constexpr uint32_t kRecordHeaderLength = 5;
constexpr uint32_t kHandshakeHeaderLength = 4;
constexpr uint32_t kMaxRecordLength = 1u << 14;  // TLSPlaintext.length
constexpr uint16_t kExtensionServerName = 0;
constexpr uint8_t kNameTypeHostName = 0;
constexpr uint32_t kRandomLength = 32;
constexpr uint32_t kMaxSessionIdLength = 32;

// HTTP (RFC 9112 §3). The longest registered method is 17 characters
// (UPDATEREDIRECTREF); anything longer is not an HTTP request.
constexpr uint32_t kMaxMethodLength = 20;

uint16_t Load16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] << 8 | p[1]);
}

// A window of bytes read front to back; every read is checked against its
// end, and a failed read leaves ok() false for good.
class Reader {
 public:
  Reader(const uint8_t* data, uint32_t length)
      : at_(data), end_(data + length) {}

  bool ok() const { return ok_; }
  uint32_t left() const { return static_cast<uint32_t>(end_ - at_); }
  const uint8_t* at() const { return at_; }

  uint8_t U8() {
    if (!Need(1)) return 0;
    return *at_++;
  }
  uint16_t U16() {
    if (!Need(2)) return 0;
    uint16_t v = Load16(at_);
    at_ += 2;
    return v;
  }
  // The next `n` bytes as a reader of their own.
  Reader Take(uint32_t n) {
    if (!Need(n)) return Reader(at_, 0, false);
    Reader r(at_, n);
    at_ += n;
    return r;
  }
  void Skip(uint32_t n) { Take(n); }

 private:
  Reader(const uint8_t* data, uint32_t length, bool ok)
      : at_(data), end_(data + length), ok_(ok) {}
  bool Need(uint32_t n) {
    if (!ok_ || left() < n) ok_ = false;
    return ok_;
  }

  const uint8_t* at_;
  const uint8_t* end_;
  bool ok_ = true;
};

// A handshake message's body length (its header's last 3 bytes).
uint32_t MessageLength(const uint8_t* header) {
  return uint32_t{header[1]} << 16 | uint32_t{header[2]} << 8 | header[3];
}

char Lower(char c) { return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c; }

// Stores `text` as rules match it (rules::NormalizeHostName), if it is a
// host name.
NameScan StoreName(const uint8_t* text, uint32_t length, ServerName* name) {
  size_t stored = rules::NormalizeHostName(reinterpret_cast<const char*>(text),
                                           length, name->bytes);
  if (stored == 0) return NameScan::kInvalid;
  name->length = static_cast<uint8_t>(stored);
  return NameScan::kFound;
}

// The server_name extension's body: one host_name, or none.
NameScan ScanServerNameExtension(Reader body, ServerName* name) {
  Reader list = body.Take(body.U16());
  if (!body.ok() || body.left() != 0) return NameScan::kInvalid;
  bool found = false;
  while (list.left() > 0) {
    uint8_t type = list.U8();
    Reader entry = list.Take(list.U16());
    if (!list.ok()) return NameScan::kInvalid;
    if (type != kNameTypeHostName) continue;  // other types: not ours
    // RFC 6066: at most one name of a type; two would be ambiguous.
    if (found) return NameScan::kInvalid;
    if (StoreName(entry.at(), entry.left(), name) != NameScan::kFound) {
      return NameScan::kInvalid;
    }
    found = true;
  }
  return found ? NameScan::kFound : NameScan::kNoName;
}

// A complete ClientHello body (after the handshake header).
NameScan ScanClientHello(Reader hello, ServerName* name) {
  hello.Skip(2 + kRandomLength);  // legacy_version, random
  uint8_t session_id = hello.U8();
  if (session_id > kMaxSessionIdLength) return NameScan::kInvalid;
  hello.Skip(session_id);
  uint16_t suites = hello.U16();
  if (suites < 2 || suites % 2 != 0) return NameScan::kInvalid;
  hello.Skip(suites);
  uint8_t compressions = hello.U8();
  if (compressions < 1) return NameScan::kInvalid;
  hello.Skip(compressions);
  if (!hello.ok()) return NameScan::kInvalid;
  // TLS 1.2 and earlier may omit the extensions: then there is no name.
  if (hello.left() == 0) return NameScan::kNoName;
  Reader extensions = hello.Take(hello.U16());
  if (!hello.ok() || hello.left() != 0) return NameScan::kInvalid;
  NameScan result = NameScan::kNoName;
  while (extensions.left() > 0) {
    uint16_t type = extensions.U16();
    Reader body = extensions.Take(extensions.U16());
    if (!extensions.ok()) return NameScan::kInvalid;
    if (type != kExtensionServerName) continue;  // GREASE, key_share, ...
    // Each extension at most once (RFC 8446 §4.2).
    if (result != NameScan::kNoName) return NameScan::kInvalid;
    result = ScanServerNameExtension(body, name);
    if (result == NameScan::kInvalid) return result;
  }
  return result;
}

// HTTP: a token character (RFC 9110 §5.6.2).
bool IsTokenChar(uint8_t c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
      (c >= '0' && c <= '9')) {
    return true;
  }
  return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != 0;
}

// The host of `authority` (userinfo not allowed, port stripped). An IPv6
// literal ("[2001:db8::1]") is no host name.
NameScan AuthorityName(const uint8_t* text, uint32_t length, ServerName* name) {
  const uint8_t* end = text + length;
  if (std::find(text, end, '@') != end) return NameScan::kInvalid;
  const uint8_t* colon = std::find(text, end, ':');
  if (colon != end) {
    if (colon + 1 == end) return NameScan::kInvalid;
    for (const uint8_t* p = colon + 1; p < end; ++p) {
      if (*p < '0' || *p > '9') return NameScan::kInvalid;
    }
  }
  return StoreName(text, static_cast<uint32_t>(colon - text), name);
}

bool StartsWithCaseless(const uint8_t* text, uint32_t length,
                        const char* prefix) {
  uint32_t n = std::strlen(prefix);
  if (length < n) return false;
  for (uint32_t i = 0; i < n; ++i) {
    if (Lower(static_cast<char>(text[i])) != prefix[i]) return false;
  }
  return true;
}

}  // namespace

const char* NameScanName(NameScan scan) {
  switch (scan) {
    case NameScan::kFound:
      return "found";
    case NameScan::kNeedMore:
      return "need_more";
    case NameScan::kTooLong:
      return "too_long";
    case NameScan::kNoName:
      return "no_name";
    case NameScan::kInvalid:
      return "invalid";
  }
  return "?";
}

namespace internal {

NameScan ScanTlsServerName(const uint8_t* data, uint32_t length,
                           ServerName* name) {
  const bool bounded = length >= kMaxRequestBytes;
  length = std::min(length, kMaxRequestBytes);
  const NameScan incomplete =
      bounded ? NameScan::kTooLong : NameScan::kNeedMore;
  // Records, each checked, until the ClientHello handshake message is
  // whole. Usually it sits in the first record and is scanned in place;
  // a ClientHello spread over records (RFC 8446 §5.1 allows it) is gathered
  // into `gathered`, which holds whatever the stream's first
  // kMaxRequestBytes carry.
  uint8_t gathered[kMaxRequestBytes];
  uint32_t have = 0;                         // bytes in `gathered`
  uint32_t wanted = kHandshakeHeaderLength;  // the message, once known
  uint32_t at = 0;
  bool first = true;
  while (true) {
    if (length - at < kRecordHeaderLength) return incomplete;
    const uint8_t* record = data + at;
    const uint32_t record_length = Load16(record + 3);
    if (record[0] != kContentTypeHandshake || record[1] != 3 ||
        record_length == 0 || record_length > kMaxRecordLength) {
      return NameScan::kInvalid;
    }
    at += kRecordHeaderLength;
    const uint32_t available = std::min(record_length, length - at);
    const uint8_t* payload = data + at;
    if (first && available >= kHandshakeHeaderLength) {
      // The usual case, scanned where it lies: the whole ClientHello in
      // the first record.
      if (payload[0] != kHandshakeClientHello) return NameScan::kInvalid;
      const uint32_t message = kHandshakeHeaderLength + MessageLength(payload);
      if (message > kMaxRequestBytes - kRecordHeaderLength) {
        return NameScan::kTooLong;  // cannot arrive within the bound
      }
      if (record_length >= message) {
        if (available < message) return incomplete;
        return ScanClientHello(Reader(payload + kHandshakeHeaderLength,
                                      message - kHandshakeHeaderLength),
                               name);
      }
    }
    std::memcpy(gathered + have, payload, available);
    have += available;
    if (have >= kHandshakeHeaderLength && wanted == kHandshakeHeaderLength) {
      if (gathered[0] != kHandshakeClientHello) return NameScan::kInvalid;
      wanted += MessageLength(gathered);
      if (wanted > kMaxRequestBytes - kRecordHeaderLength) {
        return NameScan::kTooLong;
      }
    }
    if (have >= wanted) break;
    if (available < record_length) return incomplete;
    at += record_length;
    first = false;
  }
  return ScanClientHello(Reader(gathered + kHandshakeHeaderLength,
                                wanted - kHandshakeHeaderLength),
                         name);
}

NameScan ScanHttpHost(const uint8_t* data, uint32_t length, ServerName* name) {
  const bool bounded = length >= kMaxRequestBytes;
  length = std::min(length, kMaxRequestBytes);
  const uint8_t* end = data + length;
  const uint8_t* p = data;
  // The method: uppercase letters, then a space. Checked first, so that
  // anything else is refused on its first bytes.
  while (p < end && *p >= 'A' && *p <= 'Z') ++p;
  if (p == data || p - data > kMaxMethodLength) return NameScan::kInvalid;
  if (p == end) return NameScan::kNeedMore;
  if (*p != ' ') return NameScan::kInvalid;
  auto incomplete = [bounded] {
    return bounded ? NameScan::kTooLong : NameScan::kNeedMore;
  };
  // The request target: visible characters, then " HTTP/1.x\r\n".
  const uint8_t* target = ++p;
  while (p<end&& * p> ' ' && *p < 0x7F) ++p;
  const uint8_t* target_end = p;
  static constexpr char kVersion[] = " HTTP/1.";
  for (const char* v = kVersion; *v != '\0'; ++v, ++p) {
    if (p == end) return incomplete();
    if (*p != static_cast<uint8_t>(*v)) return NameScan::kInvalid;
  }
  if (target == target_end) return NameScan::kInvalid;
  if (end - p < 3) return incomplete();
  if (p[0] < '0' || p[0] > '9' || p[1] != '\r' || p[2] != '\n') {
    return NameScan::kInvalid;
  }
  p += 3;
  // An absolute-form target names the host itself, and a server takes it
  // over Host (RFC 9112 §3.2.2): then Host must agree.
  bool absolute = false;
  ServerName from_target;
  for (const char* scheme : {"http://", "https://"}) {
    uint32_t n = std::strlen(scheme);
    if (StartsWithCaseless(target, target_end - target, scheme)) {
      const uint8_t* authority = target + n;
      const uint8_t* authority_end = authority;
      while (authority_end < target_end && *authority_end != '/' &&
             *authority_end != '?' && *authority_end != '#') {
        ++authority_end;
      }
      if (AuthorityName(authority, authority_end - authority, &from_target) !=
          NameScan::kFound) {
        return NameScan::kInvalid;
      }
      absolute = true;
    }
  }
  // Header fields up to the empty line.
  bool host = false;
  while (true) {
    const uint8_t* line = p;
    const uint8_t* cr = p;
    while (cr < end && *cr != '\r' && *cr != '\n') ++cr;
    if (end - cr < 2) return incomplete();
    if (cr[0] != '\r' || cr[1] != '\n') return NameScan::kInvalid;
    p = cr + 2;
    if (cr == line) break;  // the empty line: the header is complete
    // A folded line (obs-fold) would hide a field: refuse it.
    if (*line == ' ' || *line == '\t') return NameScan::kInvalid;
    const uint8_t* colon = line;
    while (colon < cr && IsTokenChar(*colon)) ++colon;
    if (colon == line || colon == cr || *colon != ':') {
      return NameScan::kInvalid;
    }
    if (colon - line != 4 || !StartsWithCaseless(line, 4, "host")) continue;
    if (host) return NameScan::kInvalid;  // two Hosts: ambiguous
    const uint8_t* value = colon + 1;
    const uint8_t* value_end = cr;
    while (value < value_end && (*value == ' ' || *value == '\t')) ++value;
    while (value_end > value &&
           (value_end[-1] == ' ' || value_end[-1] == '\t')) {
      --value_end;
    }
    if (AuthorityName(value, value_end - value, name) != NameScan::kFound) {
      return NameScan::kInvalid;
    }
    host = true;
  }
  if (absolute) {
    if (host && name->view() != from_target.view()) return NameScan::kInvalid;
    *name = from_target;
    return NameScan::kFound;
  }
  return host ? NameScan::kFound : NameScan::kNoName;
}

}  // namespace internal

NameScan ScanServerName(const uint8_t* data, uint32_t length,
                        ServerName* name) {
  if (length == 0) return NameScan::kNeedMore;
  // A TLS record starts with its content type (22); an HTTP request with
  // an uppercase letter. Nothing else is either.
  if (data[0] == kContentTypeHandshake) {
    return internal::ScanTlsServerName(data, length, name);
  }
  return internal::ScanHttpHost(data, length, name);
}

}  // namespace sgate::dataplane
