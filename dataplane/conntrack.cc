#include "dataplane/conntrack.h"

#include <algorithm>

namespace sgate::dataplane {
namespace {

using rules::kProtocolIcmp;
using rules::kProtocolIcmpv6;
using rules::kProtocolTcp;
using rules::kProtocolUdp;

FlowState NextTcpState(FlowState state, TcpFinFlags& fins, uint8_t flags,
                       bool from_opener) {
  if (flags & kTcpRst) return FlowState::kTcpClosed;
  if (flags & kTcpFin) {
    if (from_opener) {
      fins.from_opener = true;
    } else {
      fins.from_replier = true;
    }
    return fins.from_opener && fins.from_replier ? FlowState::kTcpClosed
                                                 : FlowState::kTcpClosing;
  }
  switch (state) {
    case FlowState::kTcpSynSent:
      if (!from_opener && (flags & kTcpSyn) && (flags & kTcpAck)) {
        return FlowState::kTcpSynReceived;
      }
      return state;
    case FlowState::kTcpSynReceived:
      if (from_opener && (flags & kTcpAck) && !(flags & kTcpSyn)) {
        return FlowState::kTcpEstablished;
      }
      return state;
    case FlowState::kTcpClosed:
      // A new SYN on a closed 5-tuple is a new connection (port reuse).
      if ((flags & kTcpSyn) && !(flags & kTcpAck)) {
        fins = {};
        return FlowState::kTcpSynSent;
      }
      return state;
    default:
      return state;
  }
}

}  // namespace

const char* FlowStateName(FlowState state) {
  switch (state) {
    case FlowState::kTcpSynSent:
      return "tcp_syn_sent";
    case FlowState::kTcpSynReceived:
      return "tcp_syn_received";
    case FlowState::kTcpEstablished:
      return "tcp_established";
    case FlowState::kTcpClosing:
      return "tcp_closing";
    case FlowState::kTcpClosed:
      return "tcp_closed";
    case FlowState::kUdpOneWay:
      return "udp";
    case FlowState::kUdpStream:
      return "udp_stream";
    case FlowState::kIcmp:
      return "icmp";
    case FlowState::kOther:
      return "other";
  }
  return "unknown";
}

FlowState InitialState(uint8_t protocol, uint8_t tcp_flags) {
  switch (protocol) {
    case kProtocolTcp:
      if (tcp_flags & kTcpRst) return FlowState::kTcpClosed;
      if ((tcp_flags & kTcpSyn) && !(tcp_flags & kTcpAck)) {
        return FlowState::kTcpSynSent;
      }
      return FlowState::kTcpEstablished;
    case kProtocolUdp:
      return FlowState::kUdpOneWay;
    case kProtocolIcmp:
    case kProtocolIcmpv6:
      return FlowState::kIcmp;
    default:
      return FlowState::kOther;
  }
}

FlowState NextState(FlowState state, TcpFinFlags& fins, uint8_t tcp_flags,
                    bool from_opener) {
  switch (state) {
    case FlowState::kUdpOneWay:
      return from_opener ? state : FlowState::kUdpStream;
    case FlowState::kUdpStream:
    case FlowState::kIcmp:
    case FlowState::kOther:
      return state;
    default:
      return NextTcpState(state, fins, tcp_flags, from_opener);
  }
}

uint32_t IdleTimeout(FlowState state, const rules::Timeouts& t) {
  switch (state) {
    case FlowState::kTcpEstablished:
      return t.tcp_established;
    case FlowState::kTcpSynSent:
    case FlowState::kTcpSynReceived:
    case FlowState::kTcpClosing:
      return t.tcp_transitory;
    case FlowState::kTcpClosed:
      return std::min(kTcpClosedTimeout, t.tcp_transitory);
    case FlowState::kUdpOneWay:
      return t.udp;
    case FlowState::kUdpStream:
      return t.udp_stream;
    case FlowState::kIcmp:
      return t.icmp;
    case FlowState::kOther:
      return t.other;
  }
  return t.other;
}

}  // namespace sgate::dataplane
