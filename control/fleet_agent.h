#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "control/etcd_client.h"
#include "control/fleet_cache.h"
#include "control/fleet_layout.h"
#include "control/fleet_objects.h"
#include "control/fleet_status.h"
#include "rules/policy.h"

namespace sgate::control {

// A fleet node's link to etcd (`sgate --etcd ... --node NAME`,
// control/FLEET.md). Two threads of its own, never a worker's or the
// control loop's time:
// - the watch thread reads the committed policy, then watches P/policy/
//   and assembles a Snapshot at every commit; when etcd cannot be reached
//   it retries with backoff (100 ms doubling to 5 s, jittered ±50%) and
//   resumes the watch after the last revision it saw, or reads a fresh
//   snapshot if that revision was compacted;
// - the status thread keeps a lease and writes the node's status under
//   it whenever the control loop reports a change.
// The control loop takes snapshots (TakeSnapshot), publishes them through
// the PolicyPublisher like any other policy, and reports (Report). Etcd
// being away never blocks it: it only finds no new snapshot.
class FleetAgent {
 public:
  struct Options {
    EtcdOptions etcd;
    std::string node;
    // The status key's lease: a node that dies leaves the list this long
    // after its last keepalive (sent every third of it).
    int64_t status_ttl_seconds = 10;
  };

  // A committed policy: the objects under P/policy/ at one commit.
  struct Snapshot {
    int64_t revision = 0;  // the commit's
    std::map<std::string, std::string> objects;
    absl::StatusOr<rules::Policy> policy;
  };

  explicit FleetAgent(Options options);
  ~FleetAgent();  // Stop()
  FleetAgent(const FleetAgent&) = delete;
  FleetAgent& operator=(const FleetAgent&) = delete;

  // Before Start(): the snapshot the node applied last, from its cache; the
  // watch resumes after its revision. Returns its policy, assembled as
  // from etcd (errors located at the keys).
  absl::StatusOr<rules::Policy> Resume(const FleetCache& cache);

  void Start();
  // Waits until the agent has caught up with etcd's newest commit (true),
  // or has failed to reach etcd once, or `timeout` passed (false).
  bool WaitForFirstContact(std::chrono::milliseconds timeout);

  // The newest snapshot not taken yet; older ones are dropped unapplied
  // (the newest commit holds everything before it).
  std::optional<Snapshot> TakeSnapshot();
  // The node's state; written to P/nodes/NAME as soon as etcd answers.
  void Report(NodeStatus status);

  // Ends both threads and revokes the lease, so the node leaves the list
  // at once. Idempotent.
  void Stop();

 private:
  enum class Contact : uint8_t { kWaiting, kCaughtUp, kFailed };

  void WatchLoop();
  // One connection's worth: the commit revision, a snapshot if needed,
  // then the watch until it fails or is canceled.
  absl::Status Follow();
  void ApplyEvents(const EtcdWatchResponse& response);
  void Post();  // makes the objects' current state the pending snapshot
  void SetContact(Contact contact);
  void StatusLoop();
  // Sleeps `duration` unless Stop() comes first; false when stopping.
  bool SleepUnlessStopped(std::chrono::milliseconds duration);

  const Options options_;
  const FleetLayout layout_;

  // Watch thread only (Resume before it starts).
  EtcdClient watch_etcd_;
  FleetObjects objects_;
  bool have_objects_ = false;    // objects_ stand at watched_
  int64_t watched_ = 0;          // the last revision objects_ reflect
  int64_t posted_revision_ = 0;  // the commit of the last Snapshot posted
  int64_t newest_commit_ = 0;    // etcd's newest commit when it last answered

  std::mutex mutex_;
  std::condition_variable changed_;
  bool stop_ = false;
  Contact contact_ = Contact::kWaiting;
  std::optional<Snapshot> pending_;
  NodeStatus status_;
  uint64_t status_version_ = 0;  // bumped by Report

  std::thread watch_thread_;
  std::thread status_thread_;
};

}  // namespace sgate::control
