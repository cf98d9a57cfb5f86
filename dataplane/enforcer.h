#pragma once

#include <cstdint>
#include <cstring>
#include <optional>

#include <rte_debug.h>

#include "dataplane/conntrack.h"
#include "dataplane/counter_list.h"
#include "dataplane/drop_reason.h"
#include "dataplane/flow_accounting.h"
#include "dataplane/flow_names.h"
#include "dataplane/flow_table.h"
#include "dataplane/fragment_table.h"
#include "dataplane/packet_parser.h"
#include "dataplane/pending_names.h"
#include "dataplane/policy_table.h"
#include "dataplane/server_name.h"
#include "rules/packet_key.h"
#include "rules/policy.h"

namespace sgate::dataplane {

// Two bytes, made and written on every packet's path: what is rarely
// needed besides (a reset to send) is asked of the Enforcer.
struct Verdict {
  bool forward = false;
  DropReason reason = DropReason::kCount;  // when !forward
};
static_assert(sizeof(Verdict) == 2);

// The per-packet decision of one worker, on plain frame bytes: parse →
// later fragments follow their first → ICMP errors follow the flow they
// quote → flow table hit: update state and pass → miss: classify, and on
// allow track the new flow. A flow only rules with domains allow is
// tracked pending until its client's first payload names the server
// (ProcessNamedFlow). Ports, mbufs and bursts stay outside, so this logic
// is tested without EAL and with any rule table (a PolicyTable,
// dataplane/policy_table.h). No allocation, locks or virtual calls.
//
// Operations (DESIGN.md §8) need the FlowAccounting attached to the flow
// table (every worker has one): per-interface flow caps, flow-log records
// of rejected packets and closed flows, and anti-spoofing of frames from
// the inside. Without one, the Enforcer decides as before.
class Enforcer {
 public:
  // `worker`: this worker's index, for the per-worker rule counters and the
  // table's per-worker scratch.
  Enforcer(FlowTable& flows, uint32_t worker = 0)
      : flows_(flows),
        worker_(worker),
        pending_(flows.capacity()),
        names_(flows.capacity()) {}

  // The most packets ProcessBurst takes at once: the worker's rx burst.
  static constexpr uint16_t kMaxBurst = 32;

  // Decides a burst of frames that arrived on one side, in order (a flow a
  // packet opens is seen by the packets after it). Parses and hashes the
  // whole burst first and prefetches the flow buckets, then the entries
  // they point at, so the lookups that follow rarely wait for memory; the
  // packets that open flows are classified together, before the decisions.
  // `now`: seconds on the flow table's clock.
  template <PolicyTable Table>
  void ProcessBurst(const uint8_t* const* frames, const uint32_t* lengths,
                    uint16_t count, Side arrived_on, uint32_t now,
                    const Table& table, Verdict* verdicts);

  // One frame: a burst of one.
  template <PolicyTable Table>
  Verdict Process(const uint8_t* frame, uint32_t length, Side arrived_on,
                  uint32_t now, const Table& table) {
    Verdict verdict;
    ProcessBurst(&frame, &length, 1, arrived_on, now, table, &verdict);
    return verdict;
  }

  // `n` frames received and dropped undecided, for `reason`: the worker
  // has no table yet (DropReason::kNoPolicy).
  void CountUndecided(uint32_t n, DropReason reason) {
    counters_.received += n;
    counters_.drops[static_cast<int>(reason)] += n;
  }

  // The transmit queue refused `n` packets Process had forwarded.
  void CountTxFailures(uint32_t n) {
    counters_.forwarded -= n;
    counters_.drops[static_cast<int>(DropReason::kTxFull)] += n;
  }
  // Bit i: frame i of the last burst, dropped, is to be answered with a
  // TCP RST back to its sender (RewriteAsReset): the client of a flow
  // denied by name.
  uint32_t resets() const { return resets_; }
  static_assert(kMaxBurst <= 32, "resets() has a bit per frame");
  // The worker sent `n` resets.
  void CountResetsSent(uint32_t n) { counters_.resets_sent += n; }

  const EnforcerCounters& counters() const { return counters_; }
  FlowTable& flows() { return flows_; }
  // The names that decided this worker's flows.
  const FlowNames& names() const { return names_; }
  // Reassembly buffers held by flows pending a name (for tests).
  uint32_t pending_buffers_in_use() const { return pending_.buffers_in_use(); }

  // The flow key of a packet as `sgatectl trace` describes it, oriented as
  // the dataplane's keys are; `src_port` is the sender's port for tcp/udp.
  static FlowKey KeyOf(const rules::PacketKey& p, uint16_t src_port);

 private:
  Verdict Forward() {
    ++counters_.forwarded;
    return {true, DropReason::kCount};
  }
  Verdict Drop(DropReason reason) {
    ++counters_.drops[static_cast<int>(reason)];
    return {false, reason};
  }
  // A drop the flow logs report as REJECT: a packet of `key` that a
  // decision about the interface of `slot` refused.
  Verdict Reject(DropReason reason, const FlowKey& key, uint64_t hash,
                 bool ingress, uint16_t slot, uint32_t bytes) {
    if (FlowAccounting* accounting = flows_.accounting()) {
      accounting->Rejected(key, hash, ingress, slot, bytes);
    }
    return Drop(reason);
  }
  Verdict Spoofed(uint16_t slot) {
    flows_.accounting()->CountSpoofed(slot);
    return Drop(DropReason::kSpoofedSource);
  }
  // Anti-spoofing: whether `frame` came from a MAC of the interface of
  // `slot` (an interface without `macs` is not checked).
  template <PolicyTable Table>
  static bool FromOwnMac(const Table& table, uint16_t slot,
                         const uint8_t* frame) {
    return table.interfaces().limits(slot).SendsFrom(SourceMac(frame));
  }
  static uint64_t SourceMac(const uint8_t* frame) {
    uint64_t mac = 0;
    for (int i = 6; i < 12; ++i) mac = mac << 8 | frame[i];
    return mac;
  }
  // Anti-spoofing for frames that open no flow (ARP, neighbour discovery,
  // later fragments): false, counted against the interface, when the
  // table names an interface owning the source address and `frame` is not
  // from one of its MACs. Rare frames: one classification each.
  template <PolicyTable Table>
  bool FromOwnSource(const Table& table, const ParsedPacket& p,
                     const uint8_t* frame);
  // A packet of a flow denied by name; its client is reset unless the
  // policy says drop (or the packet is a RST itself, or the server's).
  template <PolicyTable Table>
  Verdict DropNamed(const FlowEntry& flow, const ParsedPacket& p,
                    bool from_client, const Table& table) {
    if (from_client && (p.tcp_flags & kTcpRst) == 0 &&
        table.domain_reject() == rules::DomainReject::kRst) {
      resets_ |= 1u << BurstIndexOf(p);
    }
    return Drop(flow.name_check == NameCheck::kUndecided
                    ? DropReason::kDomainUndecided
                    : DropReason::kDomainNotAllowed);
  }

  static FlowKey KeyOf(const ParsedPacket& p, bool ingress);
  // The key of the flow an ICMP error quotes. The quoted packet went the
  // other way: an error arriving from outside quotes a packet our
  // interface sent.
  static FlowKey QuotedKeyOf(const ParsedPacket& p, bool ingress);
  static rules::PacketKey PacketKeyOf(const ParsedPacket& p, bool ingress);
  // The packet that opened `flow`, as the rules see it, for re-checking it
  // after a reload; ICMP type and code come from `p`, a packet of the
  // opener.
  static rules::PacketKey OpenerKeyOf(const FlowEntry& flow,
                                      const ParsedPacket& p);

  // Whether frame i of the burst has a flow key (stage 1 built it).
  bool HasFlowKey(uint16_t i) const {
    return errors_[i] == ParseError::kNone &&
           parsed_[i].kind == FrameKind::kIp && !parsed_[i].is_later_fragment;
  }
  // `classified`: the rules' answer for `p`, when the burst already has it.
  // `check_mac`: with anti-spoofing, the frame of a packet from the
  // inside, whose source MAC must be its interface's; else null.
  template <PolicyTable Table>
  Verdict ProcessFlow(const ParsedPacket& p, const FlowKey& key,
                      uint64_t hash, bool ingress, uint32_t length,
                      uint32_t now, const Table& table,
                      const ClassifyResult* classified,
                      const uint8_t* check_mac);
  // ProcessFlow's miss: classify (unless `classified`), check the
  // interface's cap, track the new flow.
  template <PolicyTable Table>
  Verdict OpenFlow(const ParsedPacket& p, const FlowKey& key, uint64_t hash,
                   bool ingress, uint32_t length, uint32_t now,
                   const Table& table, const ClassifyResult* classified,
                   const uint8_t* check_mac);
  // Where `p`, one of parsed_, is in the burst; the frame it was parsed
  // from, for the few paths that read past the headers: a parameter less
  // for the established path to carry.
  uint32_t BurstIndexOf(const ParsedPacket& p) const {
    return static_cast<uint32_t>(&p - parsed_);
  }
  const uint8_t* FrameOf(const ParsedPacket& p) const {
    return burst_frames_[BurstIndexOf(p)];
  }

  // A packet of a flow whose name is pending or denied (README.md, "Domain
  // rules"). Packets without payload pass while it is pending; the
  // client's payload is reassembled until it names the server, which
  // decides; the server speaking first, a bound passed, or a name no rule
  // admits denies the flow, whose packets are then all dropped. Returns
  // the drop (reported as a rejected packet, not one of the flow's), or
  // nullopt when the packet passes: the caller then tracks it as any
  // packet of the flow. Out of line, like AdmitPending, so that the
  // established path keeps its code and its registers (and NextState one
  // caller, which GCC inlines: with two it did not, +2 cycles a packet).
  template <PolicyTable Table>
  [[gnu::noinline]] std::optional<Verdict> ProcessNamedFlow(
      FlowEntry& flow, const ParsedPacket& p, bool from_opener, uint32_t now,
      const Table& table);
  // ProcessNamedFlow's decision, before the drop is reported.
  template <PolicyTable Table>
  std::optional<Verdict> CheckName(FlowEntry& flow, const ParsedPacket& p,
                                   bool from_opener, uint32_t now,
                                   const Table& table);
  // A new flow that only rules with domains allow: tracked pending, or
  // decided at once when its first packet carries payload.
  template <PolicyTable Table>
  [[gnu::noinline]] Verdict AdmitPending(FlowEntry& flow,
                                         const ParsedPacket& p, uint32_t now,
                                         const Table& table);
  // The client's payload `segment` of pending `flow`: the drop if it
  // denies the flow, else nullopt (decided, or not yet).
  template <PolicyTable Table>
  std::optional<Verdict> DecidePending(FlowEntry& flow, const ParsedPacket& p,
                                       const TcpSegment& segment, uint32_t now,
                                       const Table& table);
  // Denies pending `flow` (kNotAllowed or kUndecided) and drops `p`, which
  // came from its client or not.
  template <PolicyTable Table>
  Verdict DenyName(FlowEntry& flow, NameCheck why, const ParsedPacket& p,
                   bool from_client, uint32_t now, const Table& table);
  // Revalidation of a flow that a name admitted, under rules that leave
  // it pending: the name it asked for decides again, if still remembered;
  // if not, that some rule with domains allows it is enough.
  template <PolicyTable Table>
  bool NameStillAllowed(FlowEntry& flow, const ParsedPacket& p,
                        const Table& table);

  FlowTable& flows_;
  uint32_t worker_;
  FragmentTable fragments_;
  // Per-burst scratch, sized once (STYLE.md 9).
  ParsedPacket parsed_[kMaxBurst];
  ParseError errors_[kMaxBurst];
  FlowKey keys_[kMaxBurst];
  uint64_t hashes_[kMaxBurst];
  // The packets that open a flow, in burst order, and their rules' answers.
  uint16_t opening_[kMaxBurst];
  rules::PacketKey opening_keys_[kMaxBurst];
  ClassifyResult opening_results_[kMaxBurst];
  bool secondary_decides_[kMaxBurst];  // stage 2: see FlowTable::Presence
  const uint8_t* const* burst_frames_ = nullptr;  // parsed_[i]'s frame
  uint32_t resets_ = 0;                           // resets()
  EnforcerCounters counters_;
  // Beside the flow table, touched only by flows pending a name; last, so
  // that the burst's scratch above keeps its place.
  PendingNames pending_;
  FlowNames names_;
};

template <PolicyTable Table>
void Enforcer::ProcessBurst(const uint8_t* const* frames,
                            const uint32_t* lengths, uint16_t count,
                            Side arrived_on, uint32_t now, const Table& table,
                            Verdict* verdicts) {
  RTE_ASSERT(count <= kMaxBurst);
  bool ingress = arrived_on == Side::kOutside;
  burst_frames_ = frames;
  resets_ = 0;
  FlowAccounting* accounting = flows_.accounting();
  if (accounting != nullptr) accounting->Tick(now, table.flow_logs());
  // Anti-spoofing looks at frames from the inside; their flows' interfaces
  // are in the accounting's side arrays.
  const bool check_macs = !ingress && accounting != nullptr &&
                          table.interfaces().anti_spoofing();
  // Stage 1: parse, build the flow keys, start loading their buckets.
  for (uint16_t i = 0; i < count; ++i) {
    errors_[i] = ParseFrame(frames[i], lengths[i], &parsed_[i]);
    if (HasFlowKey(i)) {
      keys_[i] = KeyOf(parsed_[i], ingress);
      hashes_[i] = FlowTable::Hash(keys_[i]);
      flows_.Prefetch(hashes_[i]);
    }
  }
  // Stage 2: with the primary buckets arriving, start loading the flow
  // entries (FlowTable::Prefetch explains the steps). A packet whose flow
  // is certainly not in the table opens one (unless an earlier packet of
  // the burst opens the same one): start loading the entry it will take
  // too.
  uint16_t candidates = 0;
  for (uint16_t i = 0; i < count; ++i) {
    if (!HasFlowKey(i)) continue;
    FlowTable::Presence presence = flows_.PrefetchEntries(hashes_[i]);
    if (presence != FlowTable::Presence::kMaybe) {
      opening_[candidates] = i;
      secondary_decides_[candidates++] =
          presence == FlowTable::Presence::kUnsure;
    }
  }
  uint16_t opening = 0;
  for (uint16_t k = 0; k < candidates; ++k) {
    uint16_t i = opening_[k];
    if (!secondary_decides_[k] ||
        !flows_.PrefetchSecondaryEntries(hashes_[i])) {
      flows_.PrefetchFree(opening);
      opening_keys_[opening] = PacketKeyOf(parsed_[i], ingress);
      opening_[opening++] = i;
    }
  }
  // Stage 3: classify the opening packets as one burst. rte_acl's vector
  // methods take 8 or 16 packets at a time; one packet alone runs its
  // scalar path, several times slower per packet.
  if (opening != 0) {
    table.ClassifyBurst(opening_keys_, opening, opening_results_);
  }
  // Stage 4: decide, in arrival order.
  uint16_t next_opening = 0;
  for (uint16_t i = 0; i < count; ++i) {
    ++counters_.received;
    const ClassifyResult* classified = nullptr;
    if (next_opening < opening && opening_[next_opening] == i) {
      classified = &opening_results_[next_opening++];
    }
    const ParsedPacket& p = parsed_[i];
    if (errors_[i] != ParseError::kNone) {
      verdicts[i] = Drop(errors_[i]);
    } else if (p.kind != FrameKind::kIp) {
      // Hosts cannot work without ARP and neighbour discovery (DESIGN.md §3).
      verdicts[i] = check_macs && !FromOwnSource(table, p, frames[i])
                        ? Drop(DropReason::kSpoofedSource)
                        : Forward();
    } else if (p.is_later_fragment) {
      if (check_macs && !FromOwnSource(table, p, frames[i])) {
        verdicts[i] = Drop(DropReason::kSpoofedSource);
      } else {
        verdicts[i] = fragments_.WasAllowed(p, now)
                          ? Forward()
                          : Drop(DropReason::kOrphanFragment);
      }
    } else {
      // Flows count IP bytes, as VPC Flow Logs do: the same whatever the
      // frame's VLAN tags.
      verdicts[i] = ProcessFlow(p, keys_[i], hashes_[i], ingress,
                                p.l3_length, now, table, classified,
                                check_macs ? frames[i] : nullptr);
      if (verdicts[i].forward && p.is_fragment) {
        fragments_.RememberAllowed(p, now);
      }
    }
  }
}

template <PolicyTable Table>
Verdict Enforcer::ProcessFlow(const ParsedPacket& p, const FlowKey& key,
                              uint64_t hash, bool ingress, uint32_t length,
                              uint32_t now, const Table& table,
                              const ClassifyResult* classified,
                              const uint8_t* check_mac) {
  if (p.has_quote) {
    FlowKey quoted = QuotedKeyOf(p, ingress);
    if (FlowEntry* flow = flows_.Lookup(quoted, FlowTable::Hash(quoted), now)) {
      if (check_mac != nullptr) {
        uint16_t slot = flows_.accounting()->SlotOf(flows_.IndexOf(flow));
        if (!FromOwnMac(table, slot, check_mac)) return Spoofed(slot);
      }
      ++counters_.icmp_errors_of_flows;
      return Forward();
    }
    // An error about no flow of ours is just an ICMP packet: the rules
    // decide, below.
  }
  int direction = ingress ? 0 : 1;
  if (FlowEntry* flow = flows_.Lookup(key, hash, now)) {
    if (check_mac != nullptr) {
      uint16_t slot = flows_.accounting()->SlotOf(flows_.IndexOf(flow));
      if (!FromOwnMac(table, slot, check_mac)) return Spoofed(slot);
    }
    bool from_opener = flow->opened_ingress == ingress;
    // One test for both of the unusual cases: a name pending or denied
    // (kNameCheckGeneration), or a reload since the flow was admitted.
    if (flow->generation != table.generation()) [[unlikely]] {
      if (flow->name_check != NameCheck::kNone) {
        if (std::optional<Verdict> dropped =
                ProcessNamedFlow(*flow, p, from_opener, now, table)) {
          return *dropped;
        }
      } else if ((flow->untracked || table.revalidate_on_change()) &&
                 (from_opener || !rules::HasIcmpFields(p.protocol))) {
        // A flow admitted under an older policy is re-checked when it is
        // untracked, or when the policy asks for it (DESIGN.md §5). An ICMP
        // flow waits for its opener's next packet: only that carries the
        // type and code its rule matched.
        ++counters_.classified;
        ClassifyResult recheck = table.Classify(OpenerKeyOf(*flow, p));
        // Only rules with domains allow it now: a flow a name admitted may
        // stay; any other never asked for a name.
        if (!recheck.interface_known || !recheck.allowed ||
            (recheck.awaiting_name && !NameStillAllowed(*flow, p, table))) {
          FlowAccounting* accounting = flows_.accounting();
          uint16_t slot =
              accounting ? accounting->SlotOf(flows_.IndexOf(flow)) : kNoSlot;
          flows_.Remove(flow);
          return Reject(DropReason::kRevalidationDenied, key, hash, ingress,
                        slot, length);
        }
        flow->generation = table.generation();
        if (!recheck.awaiting_name) {
          flows_.SetRule(flow, recheck.rule_id);
          flow->named = false;
        }
        flow->untracked = recheck.untracked;
      }
    }
    flow->state = NextState(flow->state, flow->fins, p.tcp_flags, from_opener);
    flow->expires_at = now + IdleTimeout(flow->state, table.timeouts());
    flows_.Count(flow, direction, length);
    return Forward();
  }
  return OpenFlow(p, key, hash, ingress, length, now, table, classified,
                  check_mac);
}

// Out of line: kept apart, the established-flow path above stays as compact
// as it was before caps, flow logs and anti-spoofing (est-1m measured ~3 %
// slower with all of it inlined); a call is nothing beside classifying.
template <PolicyTable Table>
__attribute__((noinline)) Verdict Enforcer::OpenFlow(
    const ParsedPacket& p, const FlowKey& key, uint64_t hash, bool ingress,
    uint32_t length, uint32_t now, const Table& table,
    const ClassifyResult* classified, const uint8_t* check_mac) {
  const int direction = ingress ? 0 : 1;
  ++counters_.classified;
  ClassifyResult result =
      classified ? *classified : table.Classify(PacketKeyOf(p, ingress));
  if (!result.interface_known) {
    if (!result.allowed) return Drop(DropReason::kUnknownInterface);
    ++counters_.unknown_interface_passed;  // untracked by design
    return Forward();
  }
  const InterfaceTable& interfaces = table.interfaces();
  const uint16_t slot = interfaces.SlotOf(result.interface);
  if (check_mac != nullptr && !FromOwnMac(table, slot, check_mac)) {
    return Spoofed(slot);
  }
  if (!result.allowed) {
    return Reject(DropReason::kNoRuleMatched, key, hash, ingress, slot,
                  length);
  }
  FlowAccounting* accounting = flows_.accounting();
  if (accounting != nullptr &&
      accounting->AtCap(slot, interfaces.limits(slot).flow_cap)) {
    accounting->CountCapped(slot);
    return Reject(DropReason::kInterfaceFlowCap, key, hash, ingress, slot,
                  length);
  }
  FlowEntry* flow = flows_.Insert(key, hash);
  if (flow == nullptr) {
    return Reject(DropReason::kFlowTableFull, key, hash, ingress, slot,
                  length);
  }
  if (accounting != nullptr) accounting->Opened(flows_.IndexOf(flow), slot);
  flow->opened_ingress = ingress;
  flow->state = InitialState(p.protocol, p.tcp_flags);
  flow->expires_at = now + IdleTimeout(flow->state, table.timeouts());
  flows_.SetRule(flow, result.rule_id);
  flow->untracked = result.untracked;
  flow->generation = table.generation();
  flows_.Count(flow, direction, length);
  if (result.awaiting_name) [[unlikely]] {
    return AdmitPending(*flow, p, now, table);
  }
  table.CountAdmitted(worker_, result.rule_id);
  return Forward();
}

template <PolicyTable Table>
bool Enforcer::FromOwnSource(const Table& table, const ParsedPacket& p,
                             const uint8_t* frame) {
  rules::PacketKey key;
  key.direction = rules::Direction::kEgress;
  key.local.family = key.remote.family = p.family;
  key.local.bytes = p.src;
  key.remote.bytes = p.dst;
  if (p.vlan_tags) key.vlan = p.vlan;
  key.protocol = p.protocol;
  ClassifyResult owner = table.Classify(key);
  if (!owner.interface_known) return true;
  uint16_t slot = table.interfaces().SlotOf(owner.interface);
  if (FromOwnMac(table, slot, frame)) return true;
  flows_.accounting()->CountSpoofed(slot);
  return false;
}

template <PolicyTable Table>
Verdict Enforcer::AdmitPending(FlowEntry& flow, const ParsedPacket& p,
                               uint32_t now, const Table& table) {
  // Counted against its rule once a name decides.
  flow.SetNameCheck(NameCheck::kPending);
  const TcpSegment segment = TcpSegmentOf(FrameOf(p), p);
  pending_.Begin(flows_.IndexOf(&flow),
                 segment.seq + ((p.tcp_flags & kTcpSyn) ? 1 : 0));
  if (segment.payload_length != 0) {
    if (std::optional<Verdict> dropped =
            DecidePending(flow, p, segment, now, table)) {
      return *dropped;
    }
  }
  return Forward();
}

template <PolicyTable Table>
std::optional<Verdict> Enforcer::ProcessNamedFlow(FlowEntry& flow,
                                                  const ParsedPacket& p,
                                                  bool from_opener,
                                                  uint32_t now,
                                                  const Table& table) {
  std::optional<Verdict> dropped = CheckName(flow, p, from_opener, now, table);
  // Not the flow's packets any more: flow logs report them in REJECT
  // records of its 5-tuple, as any packet the rules refuse.
  FlowAccounting* accounting = flows_.accounting();
  if (dropped && accounting != nullptr) {
    const bool ingress = from_opener == flow.opened_ingress;
    accounting->Rejected(flow.key, FlowTable::Hash(flow.key), ingress,
                         accounting->SlotOf(flows_.IndexOf(&flow)),
                         p.l3_length);
  }
  return dropped;
}

template <PolicyTable Table>
std::optional<Verdict> Enforcer::CheckName(FlowEntry& flow,
                                           const ParsedPacket& p,
                                           bool from_opener, uint32_t now,
                                           const Table& table) {
  // Rules with domains are egress rules: the opener is the client.
  if (flow.name_check != NameCheck::kPending) {
    return DropNamed(flow, p, from_opener, table);
  }
  if (flow.admitted_generation() != table.generation()) {
    // Pending flows follow the rules in force, whatever admitted them.
    ClassifyResult now_rules = table.Classify(OpenerKeyOf(flow, p));
    flow.generation = table.generation() | kNameCheckGeneration;
    if (!now_rules.interface_known || !now_rules.allowed) {
      return DenyName(flow, NameCheck::kNotAllowed, p, from_opener, now,
                      table);
    }
    if (!now_rules.awaiting_name) {  // a rule without domains allows it now
      pending_.End(flows_.IndexOf(&flow));
      flow.SetNameCheck(NameCheck::kNone);
      flows_.SetRule(&flow, now_rules.rule_id);
      flow.untracked = now_rules.untracked;
      table.CountAdmitted(worker_, now_rules.rule_id);
      return std::nullopt;
    }
  }
  const TcpSegment segment = TcpSegmentOf(FrameOf(p), p);
  if (segment.payload_length == 0 && !p.is_fragment) {
    // A SYN again (a retransmission, or the port reused): the stream
    // starts after it.
    if (from_opener && (p.tcp_flags & kTcpSyn) != 0) {
      pending_.Begin(flows_.IndexOf(&flow), segment.seq + 1);
    }
    return std::nullopt;
  }
  // The server speaking first is neither TLS nor HTTP.
  if (!from_opener) {
    return DenyName(flow, NameCheck::kNotAllowed, p, false, now, table);
  }
  return DecidePending(flow, p, segment, now, table);
}

template <PolicyTable Table>
std::optional<Verdict> Enforcer::DecidePending(FlowEntry& flow,
                                               const ParsedPacket& p,
                                               const TcpSegment& segment,
                                               uint32_t now,
                                               const Table& table) {
  // sgate does not reassemble IP fragments: a fragmented ClientHello
  // cannot be read.
  if (p.is_fragment) {
    return DenyName(flow, NameCheck::kUndecided, p, true, now, table);
  }
  const uint32_t entry = flows_.IndexOf(&flow);
  // The data of a SYN (TCP Fast Open) follows the SYN's own number.
  TcpSegment data = segment;
  if ((p.tcp_flags & kTcpSyn) != 0) ++data.seq;
  const PendingNames::Stream stream = pending_.Add(entry, data, now);
  switch (stream.status) {
    case PendingNames::Status::kWaiting:
      return std::nullopt;
    case PendingNames::Status::kUndecided:
      return DenyName(flow, NameCheck::kUndecided, p, true, now, table);
    case PendingNames::Status::kConflict:
      return DenyName(flow, NameCheck::kNotAllowed, p, true, now, table);
    case PendingNames::Status::kScan:
      break;
  }
  ServerName name;
  const NameScan scan = ScanServerName(stream.data, stream.length, &name);
  if (scan != NameScan::kNeedMore && stream.reassembled) {
    ++counters_.names_reassembled;
  }
  switch (scan) {
    case NameScan::kNeedMore:
      // Passed: the server gets nothing it can act on before the request
      // is whole, and the segment that completes it is decided.
      if (pending_.Keep(entry, data, now)) return std::nullopt;
      return DenyName(flow, NameCheck::kUndecided, p, true, now, table);
    case NameScan::kTooLong:
      return DenyName(flow, NameCheck::kUndecided, p, true, now, table);
    case NameScan::kNoName:
    case NameScan::kInvalid:
      return DenyName(flow, NameCheck::kNotAllowed, p, true, now, table);
    case NameScan::kFound:
      break;
  }
  names_.Remember(entry, flow.key, name);
  const rules::NameMatch match =
      table.DecideName(OpenerKeyOf(flow, p), name.view(), worker_);
  if (!match.allowed) {
    return DenyName(flow, NameCheck::kNotAllowed, p, true, now, table);
  }
  pending_.End(entry);
  flow.SetNameCheck(NameCheck::kNone);
  flow.named = true;
  flows_.SetRule(&flow, match.rule_id);
  ++counters_.names_allowed;
  table.CountAdmitted(worker_, match.rule_id);
  table.CountName(worker_, match.domain_id);
  return std::nullopt;
}

template <PolicyTable Table>
Verdict Enforcer::DenyName(FlowEntry& flow, NameCheck why,
                           const ParsedPacket& p, bool from_client,
                           uint32_t now, const Table& table) {
  pending_.End(flows_.IndexOf(&flow));
  flow.SetNameCheck(why);
  // Kept long enough to drop (and reset) what the client still sends,
  // like a closed connection; then its next packet is a new flow.
  flow.expires_at = now + kTcpClosedTimeout;
  ++counters_.names_denied;
  return DropNamed(flow, p, from_client, table);
}

template <PolicyTable Table>
bool Enforcer::NameStillAllowed(FlowEntry& flow, const ParsedPacket& p,
                                const Table& table) {
  if (!flow.named) return false;
  absl::string_view name = names_.Find(flows_.IndexOf(&flow), flow.key);
  if (name.empty()) return true;
  const rules::NameMatch match =
      table.DecideName(OpenerKeyOf(flow, p), name, worker_);
  if (match.allowed) flows_.SetRule(&flow, match.rule_id);
  return match.allowed;
}

}  // namespace sgate::dataplane
