#pragma once

#include <cstdint>

#include "rules/policy.h"

namespace sgate::dataplane {

// The per-flow connection state of DESIGN.md §5 and the idle timeout it
// selects. Pure logic, no I/O: the Enforcer calls NextState on every packet
// of a flow and stores the state and its IdleTimeout in the flow entry.

enum class FlowState : uint8_t {
  // TCP
  kTcpSynSent,      // the opener's SYN seen
  kTcpSynReceived,  // the SYN-ACK seen
  kTcpEstablished,  // handshake completed, or picked up mid-stream
  kTcpClosing,      // a FIN seen from one side
  kTcpClosed,       // FINs from both sides (TIME_WAIT), or a RST
  // UDP
  kUdpOneWay,       // packets seen in the opening direction only
  kUdpStream,       // packets seen in both directions
  // Everything else: one state each.
  kIcmp,
  kOther,
};
const char* FlowStateName(FlowState state);  // "tcp_established", ...

// A RST, or the last FIN, ends a connection: keep the entry only long
// enough for retransmissions and the final ACK, as Linux conntrack's
// TIME_WAIT/CLOSE do, but never longer than the transitory timeout.
inline constexpr uint32_t kTcpClosedTimeout = 10;

inline constexpr uint8_t kTcpFin = 0x01;
inline constexpr uint8_t kTcpSyn = 0x02;
inline constexpr uint8_t kTcpRst = 0x04;
inline constexpr uint8_t kTcpAck = 0x10;

// TCP progress needs to know which FINs were seen; the rest of the state is
// in FlowState. Two bits in one byte, so a flow entry stays small.
struct TcpFinFlags {
  bool from_opener : 1 = false;
  bool from_replier : 1 = false;
};

// The state of a flow admitted by its first packet. Any TCP packet the rules
// allow may open a flow (mid-stream pickup after a restart): a bare SYN
// starts the handshake, a RST opens it already closed, anything else is
// taken as established.
FlowState InitialState(uint8_t protocol, uint8_t tcp_flags);

// The state after a packet of the flow. `from_opener`: the packet travels in
// the direction of the flow's first packet.
FlowState NextState(FlowState state, TcpFinFlags& fins, uint8_t tcp_flags,
                    bool from_opener);

// From settings.timeouts (DESIGN.md §4).
uint32_t IdleTimeout(FlowState state, const rules::Timeouts& timeouts);

}  // namespace sgate::dataplane
