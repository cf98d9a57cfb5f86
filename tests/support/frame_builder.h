#pragma once

// Builds Ethernet frames for tests, Katran-style: a readable chain of layers
// instead of hex dumps.
//   FrameBuilder().Vlan(10).Ipv4("203.0.113.5", "198.51.100.10")
//       .Tcp(40000, 443, kSyn).Build()
// Lengths (IPv4 total length, IPv6 payload length, extension chaining) are
// filled in by Build(); Truncate() then cuts the result to test malformed
// input.

#include <arpa/inet.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace sgate::testing {

inline constexpr uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kAck = 0x10;

class FrameBuilder {
 public:
  FrameBuilder& Vlan(uint16_t id, uint16_t tpid = 0x8100) {
    tags_.push_back({tpid, id});
    return *this;
  }
  FrameBuilder& EtherType(uint16_t type) {
    ether_type_ = type;
    return *this;
  }
  FrameBuilder& Ipv4(const std::string& src, const std::string& dst) {
    family_ = 4;
    ether_type_ = 0x0800;
    inet_pton(AF_INET, src.c_str(), src_);
    inet_pton(AF_INET, dst.c_str(), dst_);
    return *this;
  }
  FrameBuilder& Ipv6(const std::string& src, const std::string& dst) {
    family_ = 6;
    ether_type_ = 0x86DD;
    inet_pton(AF_INET6, src.c_str(), src_);
    inet_pton(AF_INET6, dst.c_str(), dst_);
    return *this;
  }
  // IPv4 options (padded to 4 bytes) grow the IHL.
  FrameBuilder& Ipv4Options(size_t bytes) {
    ipv4_options_ = (bytes + 3) / 4 * 4;
    return *this;
  }
  // IPv6 extension header of `type` (0, 43, 60: 8-byte units; 51: AH) with
  // `bytes` total length (a multiple of 8, or of 4 for AH).
  FrameBuilder& Ipv6Extension(uint8_t type, size_t bytes = 8) {
    extensions_.push_back({type, bytes, 0, false, 0});
    return *this;
  }
  // IPv4: sets the flags/offset field. IPv6: adds a fragment header.
  FrameBuilder& Fragment(uint32_t offset_bytes, bool more, uint32_t id) {
    fragment_offset_ = offset_bytes;
    more_fragments_ = more;
    fragment_id_ = id;
    if (family_ == 6) extensions_.push_back({44, 8, offset_bytes, more, id});
    return *this;
  }
  FrameBuilder& Tcp(uint16_t sport, uint16_t dport, uint8_t flags = kAck,
                    uint8_t data_offset_words = 5) {
    protocol_ = 6;
    l4_ = std::vector<uint8_t>(std::max<size_t>(20, data_offset_words * 4u));
    Put16(0, sport);
    Put16(2, dport);
    l4_[12] = data_offset_words << 4;
    l4_[13] = flags;
    return *this;
  }
  FrameBuilder& Udp(uint16_t sport, uint16_t dport) {
    protocol_ = 17;
    l4_ = std::vector<uint8_t>(8);
    Put16(0, sport);
    Put16(2, dport);
    Put16(4, 8);
    return *this;
  }
  // ICMP for IPv4 frames, ICMPv6 for IPv6 frames. `rest` is the 4-byte word
  // after the checksum: (id << 16 | seq) for echo.
  FrameBuilder& Icmp(uint8_t type, uint8_t code, uint32_t rest = 0) {
    protocol_ = family_ == 4 ? 1 : 58;
    l4_ = std::vector<uint8_t>(8);
    l4_[0] = type;
    l4_[1] = code;
    Put16(4, rest >> 16);
    Put16(6, rest & 0xFFFF);
    return *this;
  }
  FrameBuilder& Protocol(uint8_t protocol) {
    protocol_ = protocol;
    l4_.clear();
    return *this;
  }
  // Appends the IP datagram of `inner` (as an ICMP error quotes it).
  FrameBuilder& Quote(const FrameBuilder& inner, size_t max_bytes = 1 << 16) {
    std::vector<uint8_t> frame = inner.Build();
    size_t l3 = 14 + 4 * inner.tags_.size();
    frame.erase(frame.begin(), frame.begin() + l3);
    if (frame.size() > max_bytes) frame.resize(max_bytes);
    l4_.insert(l4_.end(), frame.begin(), frame.end());
    return *this;
  }
  FrameBuilder& Payload(size_t bytes) {
    payload_ = bytes;
    return *this;
  }
  // These bytes as the payload (after the L4 header).
  FrameBuilder& Data(const std::vector<uint8_t>& bytes) {
    data_ = bytes;
    return *this;
  }
  // TCP sequence and acknowledgment numbers (after Tcp()).
  FrameBuilder& Sequence(uint32_t seq, uint32_t ack = 0) {
    Put32(4, seq);
    Put32(8, ack);
    return *this;
  }
  FrameBuilder& Truncate(size_t frame_bytes) {
    truncate_ = frame_bytes;
    return *this;
  }
  // Overwrites a byte of the built frame (before Truncate), to forge header
  // fields Build() would otherwise fill in correctly: a bad IHL, version or
  // total length, a lying extension length.
  FrameBuilder& Poke(size_t frame_offset, uint8_t value) {
    pokes_.push_back({frame_offset, value});
    return *this;
  }
  FrameBuilder& Poke16(size_t frame_offset, uint16_t value) {
    Poke(frame_offset, value >> 8);
    return Poke(frame_offset + 1, value & 0xFF);
  }
  // The Ethernet source address, "02:00:00:00:00:0a" (anti-spoofing).
  FrameBuilder& SourceMac(const std::string& mac) {
    for (size_t i = 0; i < 6; ++i) {
      Poke(6 + i, static_cast<uint8_t>(std::stoul(mac.substr(3 * i, 2),
                                                   nullptr, 16)));
    }
    return *this;
  }

  std::vector<uint8_t> Build() const {
    std::vector<uint8_t> f(12, 0);  // MAC addresses are irrelevant here
    f[0] = 0x02;
    f[6] = 0x02;
    for (const Tag& t : tags_) {
      Append16(f, t.tpid);
      Append16(f, t.id);
    }
    Append16(f, ether_type_);
    std::vector<uint8_t> upper;  // extension headers + L4 + payload
    std::vector<uint8_t> body = l4_;
    body.resize(body.size() + payload_, 0xAB);
    body.insert(body.end(), data_.begin(), data_.end());
    if (family_ == 4) {
      size_t ihl = 20 + ipv4_options_;
      size_t total = ihl + body.size();
      std::vector<uint8_t> ip(ihl, 0);
      ip[0] = 0x40 | (ihl / 4);
      ip[2] = total >> 8;
      ip[3] = total;
      ip[4] = fragment_id_ >> 8;
      ip[5] = fragment_id_;
      uint16_t frag = (fragment_offset_ / 8) | (more_fragments_ ? 0x2000 : 0);
      ip[6] = frag >> 8;
      ip[7] = frag;
      ip[8] = 64;
      ip[9] = protocol_;
      std::copy(src_, src_ + 4, ip.begin() + 12);
      std::copy(dst_, dst_ + 4, ip.begin() + 16);
      f.insert(f.end(), ip.begin(), ip.end());
    } else if (family_ == 6) {
      for (size_t i = 0; i < extensions_.size(); ++i) {
        const Extension& e = extensions_[i];
        uint8_t next =
            i + 1 < extensions_.size() ? extensions_[i + 1].type : protocol_;
        std::vector<uint8_t> h(e.bytes, 0);
        h[0] = next;
        if (e.type == 44) {
          uint16_t field = (e.offset & 0xFFF8) | (e.more ? 1 : 0);
          h[2] = field >> 8;
          h[3] = field;
          for (int b = 0; b < 4; ++b) h[4 + b] = e.id >> (24 - 8 * b);
        } else if (e.type == 51) {
          h[1] = e.bytes / 4 - 2;
        } else {
          h[1] = e.bytes / 8 - 1;
        }
        upper.insert(upper.end(), h.begin(), h.end());
      }
      upper.insert(upper.end(), body.begin(), body.end());
      std::vector<uint8_t> ip(40, 0);
      ip[0] = 0x60;
      ip[4] = upper.size() >> 8;
      ip[5] = upper.size();
      ip[6] = extensions_.empty() ? protocol_ : extensions_[0].type;
      ip[7] = 64;
      std::copy(src_, src_ + 16, ip.begin() + 8);
      std::copy(dst_, dst_ + 16, ip.begin() + 24);
      f.insert(f.end(), ip.begin(), ip.end());
      body = upper;
    }
    f.insert(f.end(), body.begin(), body.end());
    for (const auto& [at, value] : pokes_) {
      if (at < f.size()) f[at] = value;
    }
    if (truncate_ < f.size()) f.resize(truncate_);
    return f;
  }

 private:
  struct Tag {
    uint16_t tpid;
    uint16_t id;
  };
  struct Extension {
    uint8_t type;
    size_t bytes;
    uint32_t offset;
    bool more;
    uint32_t id;
  };
  void Put16(size_t at, uint16_t v) {
    l4_[at] = v >> 8;
    l4_[at + 1] = v;
  }
  void Put32(size_t at, uint32_t v) {
    Put16(at, v >> 16);
    Put16(at + 2, v & 0xFFFF);
  }
  static void Append16(std::vector<uint8_t>& f, uint16_t v) {
    f.push_back(v >> 8);
    f.push_back(v);
  }

  std::vector<Tag> tags_;
  uint16_t ether_type_ = 0x0800;
  int family_ = 0;
  uint8_t src_[16] = {};
  uint8_t dst_[16] = {};
  size_t ipv4_options_ = 0;
  std::vector<Extension> extensions_;
  uint32_t fragment_offset_ = 0;
  bool more_fragments_ = false;
  uint32_t fragment_id_ = 0;
  uint8_t protocol_ = 0;
  std::vector<uint8_t> l4_;
  size_t payload_ = 0;
  std::vector<uint8_t> data_;
  size_t truncate_ = SIZE_MAX;
  std::vector<std::pair<size_t, uint8_t>> pokes_;
};

}  // namespace sgate::testing
