#pragma once

#include <cstdint>

namespace sgate::dataplane {

// A forwarding pair (DESIGN.md §3): frames from `inside` go out of
// `outside` and back. The protected interfaces sit behind the inside port.
struct PortPairIds {
  uint16_t inside = 0;
  uint16_t outside = 1;
};

}  // namespace sgate::dataplane
