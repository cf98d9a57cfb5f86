#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "control/etcd_client.h"
#include "control/fleet_agent.h"
#include "control/policy_publisher.h"

namespace sgate::control {

// sgate as a fleet node (`--etcd ... --node NAME`, control/FLEET.md): the
// control loop's side of the FleetAgent. It starts the agent (seeded with
// the cache), publishes every snapshot through the PolicyPublisher like a
// reload, keeps the cache file, and reports the node's state. Control
// thread only, except what the agent's own threads do.
class FleetNode {
 public:
  struct Options {
    EtcdOptions etcd;
    std::string node;
    std::string cache_path;  // empty: no cache
  };

  FleetNode(Options options, PolicyPublisher& publisher);

  // The node's start: the cache (if any) seeds the agent; the node waits
  // up to kFirstContactWait for etcd, then enforces etcd's policy, or the
  // cached one, or nothing (the workers drop every frame under no_policy)
  // until a policy arrives. Never fatal: etcd may come later.
  void Start();
  // Publishes the newest snapshot the agent has, if any.
  void Poll();
  // Stops the agent, which revokes the node's lease.
  void Stop() { agent_.Stop(); }

  int64_t applied_revision() const { return applied_revision_; }

  // How long start-up waits for etcd before falling back to the cache: a
  // live etcd answers in milliseconds and a 3 MB policy reads in well
  // under a second; an unreachable one is known at once (refused) or
  // after curl's 2 s connect timeout per endpoint.
  static constexpr std::chrono::milliseconds kFirstContactWait{5000};

 private:
  // A committed revision: published like any policy; a bad one changes
  // nothing and is reported with its errors.
  void Apply(FleetAgent::Snapshot snapshot);
  // The node's state, for P/nodes/NAME.
  void Report();

  const Options options_;
  PolicyPublisher& publisher_;
  FleetAgent agent_;
  int64_t applied_revision_ = 0;
  std::string source_ = "none";      // where the live policy came from
  int64_t rejected_revision_ = 0;    // the newest revision, if refused
  std::vector<std::string> errors_;  // its errors
  int64_t apply_ms_ = 0;             // the last Apply's compile + publish
};

}  // namespace sgate::control
