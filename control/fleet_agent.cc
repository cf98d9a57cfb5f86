#include "control/fleet_agent.h"

#include <unistd.h>

#include <algorithm>
#include <random>

#include "absl/strings/str_cat.h"
#include "control/log.h"

namespace sgate::control {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Reconnection backoff: quick for a blip, at most every 5 s for an outage
// (a thousand nodes retrying every 5 s is 200 requests a second).
constexpr milliseconds kFirstBackoff{100};
constexpr milliseconds kMaxBackoff{5000};
// A failure that repeats is logged again at most this often.
constexpr auto kRelogInterval = std::chrono::seconds(30);

// `backoff` spread over [backoff/2, backoff*3/2): nodes that lost etcd
// together do not all come back in the same millisecond.
milliseconds Jittered(milliseconds backoff) {
  thread_local std::minstd_rand random(
      static_cast<uint32_t>(getpid()) ^
      static_cast<uint32_t>(Clock::now().time_since_epoch().count()));
  std::uniform_int_distribution<int64_t> spread(0, backoff.count());
  return backoff / 2 + milliseconds(spread(random));
}

}  // namespace

FleetAgent::FleetAgent(Options options)
    : options_(std::move(options)),
      layout_(options_.etcd.prefix),
      watch_etcd_(options_.etcd),
      objects_(layout_) {}

FleetAgent::~FleetAgent() { Stop(); }

absl::StatusOr<rules::Policy> FleetAgent::Resume(const FleetCache& cache) {
  objects_.Clear();
  for (const auto& [key, value] : cache.objects) {
    // The cache keeps values only; the commit record is what stood at the
    // cached revision.
    objects_.Put(key, value, key == layout_.CommitKey() ? cache.revision : 0);
  }
  have_objects_ = true;
  watched_ = cache.revision;
  posted_revision_ = cache.revision;
  return objects_.Assemble();
}

void FleetAgent::Start() {
  watch_thread_ = std::thread([this] { WatchLoop(); });
  status_thread_ = std::thread([this] { StatusLoop(); });
}

bool FleetAgent::WaitForFirstContact(milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait_for(lock, timeout,
                    [this] { return contact_ != Contact::kWaiting || stop_; });
  return contact_ == Contact::kCaughtUp;
}

std::optional<FleetAgent::Snapshot> FleetAgent::TakeSnapshot() {
  std::lock_guard<std::mutex> lock(mutex_);
  std::optional<Snapshot> taken = std::move(pending_);
  pending_.reset();
  return taken;
}

void FleetAgent::Report(NodeStatus status) {
  std::lock_guard<std::mutex> lock(mutex_);
  status_ = std::move(status);
  ++status_version_;
  changed_.notify_all();
}

void FleetAgent::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stop_ && !watch_thread_.joinable()) return;
    stop_ = true;
    changed_.notify_all();
  }
  watch_etcd_.Interrupt();
  if (watch_thread_.joinable()) watch_thread_.join();
  if (status_thread_.joinable()) status_thread_.join();
}

bool FleetAgent::SleepUnlessStopped(milliseconds duration) {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait_for(lock, duration, [this] { return stop_; });
  return !stop_;
}

void FleetAgent::SetContact(Contact contact) {
  std::lock_guard<std::mutex> lock(mutex_);
  // Once caught up, a later failure does not matter to the start-up wait.
  if (contact_ == Contact::kCaughtUp) return;
  contact_ = contact;
  changed_.notify_all();
}

void FleetAgent::WatchLoop() {
  milliseconds backoff = kFirstBackoff;
  std::string last_logged;
  Clock::time_point logged_at;
  while (true) {
    const int64_t watched_before = watched_;
    absl::Status status = Follow();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stop_) return;
    }
    if (status.ok()) {  // the watch was canceled: compaction, start again
      backoff = kFirstBackoff;
      continue;
    }
    SetContact(Contact::kFailed);
    // Progress since the last failure: this is a new outage.
    if (watched_ != watched_before) backoff = kFirstBackoff;
    std::string message(status.message());
    if (message != last_logged || Clock::now() - logged_at > kRelogInterval) {
      SGATE_LOG(WARNING,
                "fleet: %s; forwarding goes on under revision %lld, "
                "retrying (backoff up to %lld ms)\n",
                message.c_str(), static_cast<long long>(posted_revision_),
                static_cast<long long>(kMaxBackoff.count()));
      last_logged = message;
      logged_at = Clock::now();
    }
    if (!SleepUnlessStopped(Jittered(backoff))) return;
    backoff = std::min(backoff * 2, kMaxBackoff);
  }
}

absl::Status FleetAgent::Follow() {
  // Where the policy stands now: one key.
  absl::StatusOr<EtcdRange> commit = watch_etcd_.Range(layout_.CommitKey(), "");
  if (!commit.ok()) return commit.status();
  newest_commit_ = commit->kvs.empty() ? 0 : commit->kvs[0].mod_revision;
  // A fresh read when there is nothing to resume from, or when etcd's
  // newest commit is older than ours (the store was rebuilt).
  if (!have_objects_ || newest_commit_ < posted_revision_) {
    absl::StatusOr<int64_t> read =
        ReadCommittedPolicy(watch_etcd_, 0, objects_);
    if (!read.ok()) return read.status();
    have_objects_ = true;
    watched_ = *read;
    newest_commit_ = objects_.commit_revision();
    SGATE_LOG(INFO, "fleet: read revision %lld from etcd (%zu keys)\n",
              static_cast<long long>(newest_commit_), objects_.size());
    if (newest_commit_ != 0 && newest_commit_ != posted_revision_) Post();
  }
  if (posted_revision_ >= newest_commit_) SetContact(Contact::kCaughtUp);

  const std::string prefix = layout_.PolicyPrefix();
  bool compacted = false;
  absl::Status watched =
      watch_etcd_.Watch(prefix, PrefixRangeEnd(prefix), watched_ + 1,
                        [&](const EtcdWatchResponse& response) {
                          if (response.canceled) {
                            compacted = response.compact_revision > 0;
                            return false;
                          }
                          ApplyEvents(response);
                          if (posted_revision_ >= newest_commit_)
                            SetContact(Contact::kCaughtUp);
                          std::lock_guard<std::mutex> lock(mutex_);
                          return !stop_;
                        });
  if (compacted) {
    SGATE_LOG(INFO,
              "fleet: revision %lld is compacted; reading the policy "
              "afresh\n",
              static_cast<long long>(watched_ + 1));
    have_objects_ = false;
    return absl::OkStatus();
  }
  if (watched.ok()) {
    return absl::UnavailableError("the watch was canceled by etcd");
  }
  return watched;
}

void FleetAgent::ApplyEvents(const EtcdWatchResponse& response) {
  // Events come in revision order, all of a revision in one response. A
  // commit is applied once every event of its revision is in, before any
  // event of a later push.
  int64_t commit = 0;
  for (const EtcdWatchResponse::Event& event : response.events) {
    const int64_t revision = event.kv.mod_revision;
    if (commit != 0 && revision > commit) {
      Post();
      commit = 0;
    }
    if (event.deleted) {
      objects_.Delete(event.kv.key);
    } else {
      objects_.Put(event.kv.key, event.kv.value, revision);
      if (event.kv.key == layout_.CommitKey()) commit = revision;
    }
    watched_ = std::max(watched_, revision);
  }
  if (commit != 0) Post();
  newest_commit_ = std::max(newest_commit_, posted_revision_);
}

void FleetAgent::Post() {
  Snapshot snapshot;
  snapshot.revision = objects_.commit_revision();
  if (snapshot.revision == 0 || snapshot.revision == posted_revision_) return;
  snapshot.objects = objects_.Values();
  snapshot.policy = objects_.Assemble();
  posted_revision_ = snapshot.revision;
  std::lock_guard<std::mutex> lock(mutex_);
  pending_ = std::move(snapshot);
}

void FleetAgent::StatusLoop() {
  EtcdClient etcd(options_.etcd);
  const std::string key = layout_.NodeKey(options_.node);
  const milliseconds keepalive_every(options_.status_ttl_seconds * 1000 / 3);
  int64_t lease = 0;
  uint64_t written_version = 0;
  bool written = false;
  Clock::time_point next_keepalive = Clock::now();
  milliseconds backoff = kFirstBackoff;
  std::string last_logged;
  auto fail = [&](const absl::Status& status) {
    if (status.message() != last_logged) {
      SGATE_LOG(WARNING, "fleet: cannot report the node's status: %s\n",
                std::string(status.message()).c_str());
      last_logged = std::string(status.message());
    }
    bool go_on = SleepUnlessStopped(Jittered(backoff));
    backoff = std::min(backoff * 2, kMaxBackoff);
    return go_on;
  };
  while (true) {
    NodeStatus status;
    uint64_t version = 0;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      // Nothing is written before the control loop's first report.
      changed_.wait_until(lock, next_keepalive, [&] {
        return stop_ || (status_version_ != 0 &&
                         (status_version_ != written_version || !written));
      });
      if (stop_) break;
      status = status_;
      version = status_version_;
    }
    if (version == 0) {
      next_keepalive = Clock::now() + keepalive_every;
      continue;
    }
    if (lease == 0) {
      absl::StatusOr<int64_t> granted =
          etcd.LeaseGrant(options_.status_ttl_seconds);
      if (!granted.ok()) {
        if (!fail(granted.status())) break;
        continue;
      }
      lease = *granted;
      written = false;  // the status must be written under the new lease
      next_keepalive = Clock::now() + keepalive_every;
    } else if (Clock::now() >= next_keepalive) {
      absl::StatusOr<int64_t> ttl = etcd.LeaseKeepAlive(lease);
      if (!ttl.ok()) {
        next_keepalive = Clock::now() + kFirstBackoff * 10;
        if (!fail(ttl.status())) break;
        continue;
      }
      next_keepalive = Clock::now() + keepalive_every;
      if (*ttl == 0) {  // expired while etcd was away: the key is gone
        lease = 0;
        continue;
      }
    }
    if (written && version == written_version) continue;
    status.updated = UnixNow();
    EtcdTxn put;
    put.Put(key, NodeStatusJson(status), lease);
    absl::StatusOr<EtcdTxnResult> result = etcd.Txn(put);
    if (!result.ok()) {
      // "requested lease not found": it expired; take a new one.
      if (result.status().code() == absl::StatusCode::kNotFound) lease = 0;
      if (!fail(result.status())) break;
      continue;
    }
    written = true;
    written_version = version;
    backoff = kFirstBackoff;
    last_logged.clear();
  }
  if (lease != 0) (void)etcd.LeaseRevoke(lease);  // the key goes with it
}

}  // namespace sgate::control
