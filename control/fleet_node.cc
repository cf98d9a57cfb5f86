#include "control/fleet_node.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "control/fleet_cache.h"
#include "control/fleet_status.h"
#include "control/log.h"

namespace sgate::control {

FleetNode::FleetNode(Options options, PolicyPublisher& publisher)
    : options_(std::move(options)),
      publisher_(publisher),
      agent_({.etcd = options_.etcd, .node = options_.node}) {}

void FleetNode::Start() {
  std::optional<rules::Policy> cached;
  int64_t cached_revision = 0;
  if (!options_.cache_path.empty()) {
    absl::StatusOr<FleetCache> cache = ReadFleetCache(options_.cache_path);
    if (cache.ok() && cache->prefix != options_.etcd.prefix) {
      cache = absl::FailedPreconditionError(
          absl::StrCat(options_.cache_path, " holds prefix ", cache->prefix,
                       ", not ", options_.etcd.prefix));
    }
    if (cache.ok()) {
      absl::StatusOr<rules::Policy> policy = agent_.Resume(*cache);
      if (policy.ok()) {
        cached = *std::move(policy);
        cached_revision = cache->revision;
      } else {
        cache = policy.status();
      }
    }
    if (!cache.ok() && cache.status().code() != absl::StatusCode::kNotFound) {
      SGATE_LOG(WARNING, "fleet: the cache is not used: %s\n",
                std::string(cache.status().message()).c_str());
    }
  }
  agent_.Start();
  const bool caught_up = agent_.WaitForFirstContact(kFirstContactWait);
  Poll();
  if (publisher_.Live() == nullptr && cached &&
      publisher_.Publish(*std::move(cached)).ok()) {
    applied_revision_ = cached_revision;
    source_ = "cache";
    SGATE_LOG(
        WARNING, "fleet: enforcing revision %lld from the cache %s (%s)\n",
        static_cast<long long>(cached_revision), options_.cache_path.c_str(),
        caught_up ? "the newest in etcd" : "etcd cannot be reached yet");
  }
  if (publisher_.Live() == nullptr) {
    SGATE_LOG(WARNING,
              "fleet: no policy yet: every packet is dropped "
              "(no_policy) until one arrives from etcd\n");
  }
  Report();
}

void FleetNode::Poll() {
  if (std::optional<FleetAgent::Snapshot> snapshot = agent_.TakeSnapshot()) {
    Apply(*std::move(snapshot));
  }
}

void FleetNode::Apply(FleetAgent::Snapshot snapshot) {
  const auto start = std::chrono::steady_clock::now();
  absl::Status applied = publisher_.Publish(std::move(snapshot.policy));
  apply_ms_ = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - start)
                  .count();
  if (applied.ok()) {
    applied_revision_ = snapshot.revision;
    source_ = "etcd";
    rejected_revision_ = 0;
    errors_.clear();
    SGATE_LOG(INFO, "fleet: revision %lld live as generation %u\n",
              static_cast<long long>(applied_revision_),
              publisher_.generation());
    if (!options_.cache_path.empty()) {
      absl::Status written = WriteFleetCache(
          options_.cache_path, {.prefix = options_.etcd.prefix,
                                .revision = snapshot.revision,
                                .objects = std::move(snapshot.objects)});
      if (!written.ok()) {
        SGATE_LOG(WARNING, "fleet: %s\n",
                  std::string(written.message()).c_str());
      }
    }
  } else {
    rejected_revision_ = snapshot.revision;
    errors_ = absl::StrSplit(applied.message(), '\n', absl::SkipEmpty());
    SGATE_LOG(ERR,
              "fleet: revision %lld rejected, keeping revision %lld "
              "(generation %u):\n%s\n",
              static_cast<long long>(snapshot.revision),
              static_cast<long long>(applied_revision_),
              publisher_.generation(), std::string(applied.message()).c_str());
  }
  Report();
}

void FleetNode::Report() {
  NodeStatus status;
  status.node = options_.node;
  const dataplane::LiveTable* live = publisher_.Live();
  status.state = live == nullptr           ? NodeStatus::State::kNoPolicy
                 : rejected_revision_ != 0 ? NodeStatus::State::kRejected
                                           : NodeStatus::State::kOk;
  status.revision = applied_revision_;
  status.generation = publisher_.generation();
  status.source = live == nullptr ? "none" : source_;
  status.rejected_revision = rejected_revision_;
  status.error_count = errors_.size();
  status.errors.assign(
      errors_.begin(),
      errors_.begin() + std::min(errors_.size(), NodeStatus::kMaxErrors));
  if (live != nullptr) {
    for (const auto& [name, interface] : live->policy().interfaces) {
      if (interface.EnforcedOn(options_.node)) {
        status.interfaces.push_back(name);
      }
    }
  }
  status.interface_count = status.interfaces.size();
  if (status.interface_count > NodeStatus::kMaxInterfaceNames) {
    status.interfaces.clear();
  }
  status.sgate_version = SgateVersion();
  status.apply_ms = apply_ms_;
  agent_.Report(std::move(status));
}

}  // namespace sgate::control
