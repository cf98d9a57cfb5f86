// Writes a replay profile for perf/replay: established flows from outside
// to one protected server, 64-byte frames.
//   gen_pcap OUT.pcap FLOWS
// Every flow is TCP from 203.0.113.0/24 to 198.51.100.10:80 with ACK set,
// so its first packet opens it by mid-stream pickup and every later pass
// over the capture hits the flow table.
#include <cstdio>
#include <cstdlib>

#include "tests/dataplane/frame_builder.h"
#include "tests/pcap_writer.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: gen_pcap OUT.pcap FLOWS\n");
    return 2;
  }
  int flows = std::atoi(argv[2]);
  sgate::testing::PcapWriter pcap(argv[1]);
  if (!pcap.ok() || flows <= 0 || flows > 65536 * 254) {
    std::fprintf(stderr, "gen_pcap: cannot write %s with %d flows\n", argv[1],
                 flows);
    return 1;
  }
  for (int f = 0; f < flows; ++f) {
    std::string client = "203.0.113." + std::to_string(1 + f % 254);
    uint16_t port = static_cast<uint16_t>(1024 + f / 254);
    std::vector<uint8_t> frame = sgate::testing::FrameBuilder()
                                     .Ipv4(client, "198.51.100.10")
                                     .Tcp(port, 80, sgate::testing::kAck)
                                     .Build();
    frame.resize(60, 0);  // 64 bytes on the wire with the FCS
    pcap.Write(frame);
  }
  return 0;
}
