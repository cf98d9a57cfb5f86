#pragma once

// Writes classic libpcap files (Ethernet link type), for the golden tests
// and the replay profiles. The format is small enough not to need libpcap.

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace sgate::testing {

class PcapWriter {
 public:
  explicit PcapWriter(const std::string& path)
      : file_(std::fopen(path.c_str(), "wb")) {
    if (file_ == nullptr) return;
    const uint32_t header[6] = {
        0xA1B2C3D4,  // magic: microsecond timestamps, our byte order
        0x00040002,  // version 2.4
        0,           // GMT offset
        0,           // timestamp accuracy
        65535,       // snapshot length
        1,           // LINKTYPE_ETHERNET
    };
    std::fwrite(header, sizeof(header), 1, file_);
  }
  ~PcapWriter() {
    if (file_ != nullptr) std::fclose(file_);
  }
  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;

  bool ok() const { return file_ != nullptr; }

  void Write(const std::vector<uint8_t>& frame) {
    uint32_t length = static_cast<uint32_t>(frame.size());
    const uint32_t record[4] = {seconds_, 0, length, length};
    std::fwrite(record, sizeof(record), 1, file_);
    std::fwrite(frame.data(), 1, frame.size(), file_);
  }

 private:
  std::FILE* file_;
  uint32_t seconds_ = 1;
};

}  // namespace sgate::testing
