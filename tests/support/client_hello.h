#pragma once

// Builds TLS ClientHello records byte by byte, for the server name tests,
// the enforcer tests and perf/gen's domains profile:
//   ClientHelloBuilder().ServerName("api.github.com").Grease().Build()
// The defaults look like a TLS 1.3 client's (supported_versions, x25519
// key share); every length is computed by Build(), and the setters below
// let a test forge any of them.

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace sgate::testing {

class ClientHelloBuilder {
 public:
  // Extension types (IANA TLS ExtensionType values).
  static constexpr uint16_t kServerName = 0;
  static constexpr uint16_t kSupportedGroups = 10;
  static constexpr uint16_t kSignatureAlgorithms = 13;
  static constexpr uint16_t kAlpn = 16;
  static constexpr uint16_t kPadding = 21;
  static constexpr uint16_t kSupportedVersions = 43;
  static constexpr uint16_t kKeyShare = 51;

  ClientHelloBuilder& ServerName(std::string name) {
    server_names_ = {{0, std::move(name)}};
    return *this;
  }
  // Several entries in one server_name extension: (name_type, name).
  ClientHelloBuilder& ServerNames(
      std::vector<std::pair<uint8_t, std::string>> names) {
    server_names_ = std::move(names);
    return *this;
  }
  ClientHelloBuilder& NoServerName() {
    server_names_.clear();
    return *this;
  }
  // GREASE values (RFC 8701) among the cipher suites and extensions, and an
  // empty GREASE extension first and last, as Chrome sends them.
  ClientHelloBuilder& Grease() {
    grease_ = true;
    return *this;
  }
  // TLS 1.2 style: no supported_versions, no key_share.
  ClientHelloBuilder& Tls12() {
    tls13_ = false;
    return *this;
  }
  ClientHelloBuilder& RecordVersion(uint16_t version) {
    record_version_ = version;
    return *this;
  }
  // A key share of `bytes` (x25519 is 32; X25519Kyber768 1,216).
  ClientHelloBuilder& KeyShareBytes(size_t bytes) {
    key_share_bytes_ = bytes;
    return *this;
  }
  ClientHelloBuilder& SessionId(size_t bytes) {
    session_id_ = bytes;
    return *this;
  }
  // Any extension, appended after the defaults.
  ClientHelloBuilder& Extension(uint16_t type, std::vector<uint8_t> body) {
    extra_.push_back({type, std::move(body)});
    return *this;
  }
  // The server_name extension first (OpenSSL's order) or last (after every
  // other, as a randomising client may put it).
  ClientHelloBuilder& ServerNameLast() {
    server_name_last_ = true;
    return *this;
  }
  // TLS 1.2 and earlier may send no extensions block at all.
  ClientHelloBuilder& NoExtensions() {
    no_extensions_ = true;
    return *this;
  }
  // Splits the handshake message over records of at most `bytes` each.
  ClientHelloBuilder& RecordSize(size_t bytes) {
    record_size_ = bytes;
    return *this;
  }

  // The ClientHello handshake message alone (type, length, body).
  std::vector<uint8_t> Message() const {
    std::vector<uint8_t> body;
    Put16(body, 0x0303);  // legacy_version
    for (int i = 0; i < 32; ++i) body.push_back(static_cast<uint8_t>(i * 7));
    body.push_back(static_cast<uint8_t>(session_id_));
    for (size_t i = 0; i < session_id_; ++i) body.push_back(0x5A);
    std::vector<uint16_t> suites = {0x1301, 0x1302, 0x1303, 0xC02B, 0xC02F};
    if (grease_) suites.insert(suites.begin(), 0x0A0A);
    Put16(body, static_cast<uint16_t>(2 * suites.size()));
    for (uint16_t s : suites) Put16(body, s);
    body.push_back(1);  // compression methods: null
    body.push_back(0);
    if (!no_extensions_) {
      std::vector<uint8_t> extensions;
      if (grease_) AddExtension(extensions, 0x1A1A, {});
      if (!server_name_last_) AddServerName(extensions);
      AddExtension(extensions, kSupportedGroups, {0, 4, 0, 0x1D, 0, 0x17});
      AddExtension(extensions, kSignatureAlgorithms,
                   {0, 4, 0x04, 0x03, 0x08, 0x04});
      AddExtension(
          extensions, kAlpn,
          {0, 12, 2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'});
      if (tls13_) {
        AddExtension(extensions, kSupportedVersions, {2, 0x03, 0x04});
        std::vector<uint8_t> share;
        Put16(share, static_cast<uint16_t>(4 + key_share_bytes_));
        Put16(share, 0x001D);
        Put16(share, static_cast<uint16_t>(key_share_bytes_));
        for (size_t i = 0; i < key_share_bytes_; ++i) {
          share.push_back(static_cast<uint8_t>(i));
        }
        AddExtension(extensions, kKeyShare, share);
      }
      for (const auto& [type, data] : extra_) {
        AddExtension(extensions, type, data);
      }
      if (server_name_last_) AddServerName(extensions);
      if (grease_) AddExtension(extensions, 0x2A2A, {0});
      Put16(body, static_cast<uint16_t>(extensions.size()));
      body.insert(body.end(), extensions.begin(), extensions.end());
    }
    std::vector<uint8_t> message = {1};  // client_hello
    message.push_back(static_cast<uint8_t>(body.size() >> 16));
    message.push_back(static_cast<uint8_t>(body.size() >> 8));
    message.push_back(static_cast<uint8_t>(body.size()));
    message.insert(message.end(), body.begin(), body.end());
    return message;
  }

  // The message in handshake records.
  std::vector<uint8_t> Build() const {
    std::vector<uint8_t> message = Message();
    std::vector<uint8_t> out;
    for (size_t at = 0; at < message.size(); at += record_size_) {
      size_t n = std::min(record_size_, message.size() - at);
      out.push_back(22);  // handshake
      Put16(out, record_version_);
      Put16(out, static_cast<uint16_t>(n));
      out.insert(out.end(), message.begin() + at, message.begin() + at + n);
    }
    return out;
  }

 private:
  static void Put16(std::vector<uint8_t>& v, uint16_t x) {
    v.push_back(static_cast<uint8_t>(x >> 8));
    v.push_back(static_cast<uint8_t>(x));
  }
  static void AddExtension(std::vector<uint8_t>& out, uint16_t type,
                           const std::vector<uint8_t>& body) {
    Put16(out, type);
    Put16(out, static_cast<uint16_t>(body.size()));
    out.insert(out.end(), body.begin(), body.end());
  }
  void AddServerName(std::vector<uint8_t>& out) const {
    if (server_names_.empty()) return;
    std::vector<uint8_t> list;
    for (const auto& [type, name] : server_names_) {
      list.push_back(type);
      Put16(list, static_cast<uint16_t>(name.size()));
      list.insert(list.end(), name.begin(), name.end());
    }
    std::vector<uint8_t> body;
    Put16(body, static_cast<uint16_t>(list.size()));
    body.insert(body.end(), list.begin(), list.end());
    AddExtension(out, kServerName, body);
  }

  std::vector<std::pair<uint8_t, std::string>> server_names_ = {
      {0, "example.com"}};
  bool grease_ = false;
  bool tls13_ = true;
  bool server_name_last_ = false;
  bool no_extensions_ = false;
  uint16_t record_version_ = 0x0301;
  size_t key_share_bytes_ = 32;
  size_t session_id_ = 32;
  size_t record_size_ = 16384;
  std::vector<std::pair<uint16_t, std::vector<uint8_t>>> extra_;
};

}  // namespace sgate::testing
