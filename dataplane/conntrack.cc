#include "dataplane/conntrack.h"

#include <algorithm>

namespace sgate::dataplane {
namespace {

using rules::kProtocolIcmp;
using rules::kProtocolIcmpv6;
using rules::kProtocolTcp;
using rules::kProtocolUdp;

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
