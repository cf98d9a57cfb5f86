#pragma once

#include <cstdint>

namespace sgate::dataplane {

// Turns a TCP frame into the RST that answers it, in place: what sgate
// sends a client whose flow a name denied (settings.domain_reject: rst),
// back out of the port the frame came from, so that the client fails at
// once instead of retransmitting. No allocation: the frame's own bytes
// become the reset.
//
// The reset goes back to the sender: Ethernet addresses, IP addresses and
// ports swapped, VLAN tags kept; IPv4 without options (TTL 64, DF) or IPv6
// without extension headers (hop limit 64); TCP RST|ACK with no options or
// payload, window 0. Its sequence number is the frame's acknowledgment
// number (0 without ACK), its acknowledgment the frame's sequence number
// plus its length (SYN and FIN count one), as RFC 9293 §3.10.7.1 has it;
// a Linux client in any synchronised state accepts it. Checksums are
// computed in software.
//
// Returns the reset's length (at most `length`), or 0 when the frame is
// not a whole TCP segment that may be answered (not TCP, a fragment, or
// itself a RST), and then leaves it unchanged.
uint32_t RewriteAsReset(uint8_t* frame, uint32_t length);

}  // namespace sgate::dataplane
