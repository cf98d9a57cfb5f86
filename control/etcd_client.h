#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace sgate::control {

// How to reach etcd: the options sgate's fleet agent and `sgatectl fleet`
// share (the same as etcdctl's, control/FLEET.md).
struct EtcdOptions {
  std::vector<std::string> endpoints;  // http:// or https:// URLs
  std::string prefix = "/sgate";       // every key sgate writes is under it
  std::string cacert;                  // PEM CA that signed etcd's certificate
  std::string cert;                    // PEM client certificate and its key
  std::string key;
};

// Parses the etcd option at args[i] (--etcd URL[,URL...], --etcd-prefix P,
// --etcd-cacert F, --etcd-cert F, --etcd-key F) and its value, advancing i
// past them. False when args[i] is not an etcd option; an error when its
// value is missing or wrong.
absl::StatusOr<bool> ParseEtcdOption(const std::vector<std::string>& args,
                                     size_t& i, EtcdOptions& options);
// The checks that need every option: at least one endpoint, TLS files only
// with https:// endpoints, --etcd-cert and --etcd-key together.
absl::Status ValidateEtcdOptions(const EtcdOptions& options);
inline constexpr char kEtcdOptionsUsage[] =
    "--etcd URL[,URL...] [--etcd-prefix P] [--etcd-cacert F --etcd-cert F "
    "--etcd-key F]";

// One key as etcd stores it.
struct EtcdKeyValue {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t version = 0;
  int64_t lease = 0;
};

struct EtcdRange {
  int64_t revision = 0;  // the store's revision the range was read at
  std::vector<EtcdKeyValue> kvs;
};

// A transaction: if every comparison holds, every operation, atomically,
// at one new revision. The comparisons are equalities, as the fleet needs.
struct EtcdTxn {
  struct Compare {
    enum class Target : uint8_t { kModRevision, kValue };
    Target target = Target::kModRevision;
    std::string key;
    int64_t mod_revision = 0;  // 0: the key does not exist
    std::string value;
  };
  struct Operation {
    bool is_delete = false;
    std::string key;
    std::string value;
    int64_t lease = 0;
  };
  std::vector<Compare> compares;
  std::vector<Operation> operations;

  void CompareModRevision(std::string key, int64_t revision) {
    compares.push_back(
        {Compare::Target::kModRevision, std::move(key), revision, ""});
  }
  void Put(std::string key, std::string value, int64_t lease = 0) {
    operations.push_back({false, std::move(key), std::move(value), lease});
  }
  void Delete(std::string key) {
    operations.push_back({true, std::move(key), "", 0});
  }
};

struct EtcdTxnResult {
  bool succeeded = false;
  int64_t revision = 0;  // the new revision, or the current one if refused
};

struct EtcdWatchResponse {
  int64_t revision = 0;  // the store's revision when it was sent
  bool created = false;
  bool canceled = false;
  // Set when the start revision was compacted: the watch is canceled and
  // history from this revision on is all that remains.
  int64_t compact_revision = 0;
  std::string cancel_reason;
  struct Event {
    bool deleted = false;
    EtcdKeyValue kv;  // for a delete: the key and the deletion's revision
  };
  std::vector<Event> events;  // in revision order
};

// "P" -> the first key after every key starting with P (etcd's range_end
// for a prefix).
std::string PrefixRangeEnd(const std::string& prefix);

// A client of etcd's v3 API through its HTTP/JSON gateway (`/v3/...`,
// keys and values base64), over libcurl: control/FLEET.md says why this
// rather than gRPC. Blocking calls; one client per thread (it keeps one
// connection open to the endpoint that last answered). An endpoint that
// cannot be reached is skipped for the next; every failure to reach any is
// kUnavailable, naming each endpoint's error. etcd's own refusals keep
// etcd's message: a compacted revision is kOutOfRange.
class EtcdClient {
 public:
  explicit EtcdClient(EtcdOptions options);
  ~EtcdClient();
  EtcdClient(const EtcdClient&) = delete;
  EtcdClient& operator=(const EtcdClient&) = delete;

  // Keys in [key, range_end) (range_end empty: `key` alone) at `revision`
  // (0: the latest), read in pages of `page` keys, all at the revision the
  // first page was read at: one consistent view of any size.
  absl::StatusOr<EtcdRange> Range(const std::string& key,
                                  const std::string& range_end,
                                  int64_t revision = 0, int64_t page = 1000);
  absl::StatusOr<EtcdTxnResult> Txn(const EtcdTxn& txn);
  // A lease of `ttl_seconds`; its id.
  absl::StatusOr<int64_t> LeaseGrant(int64_t ttl_seconds);
  // Renews the lease; its remaining TTL, 0 when it has expired.
  absl::StatusOr<int64_t> LeaseKeepAlive(int64_t id);
  absl::Status LeaseRevoke(int64_t id);
  // Drops the history before `revision` (operators and tests; sgate itself
  // never compacts).
  absl::Status Compact(int64_t revision);

  // Watches [key, range_end) from `start_revision` and calls `on_response`
  // for every response, in order, until it returns false (OK), the watch
  // is canceled (OK: the caller reads compact_revision), Interrupt() is
  // called (kCancelled) or the stream fails (kUnavailable).
  absl::Status Watch(
      const std::string& key, const std::string& range_end,
      int64_t start_revision,
      const std::function<bool(const EtcdWatchResponse&)>& on_response);
  // Makes a Watch() in progress on another thread return at once. Safe
  // from any thread.
  void Interrupt();

  const EtcdOptions& options() const { return options_; }

 private:
  struct Connection;
  // POSTs `body` to `path` on the current endpoint, or the next ones when
  // it cannot be reached; the reply's body.
  absl::StatusOr<std::string> Post(const std::string& path,
                                   const std::string& body);

  EtcdOptions options_;
  std::unique_ptr<Connection> connection_;
  size_t endpoint_ = 0;  // the one that answered last
  std::atomic<bool> interrupted_{false};
};

}  // namespace sgate::control
