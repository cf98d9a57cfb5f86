#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "control/etcd_client.h"
#include "control/fleet_layout.h"
#include "rules/diagnostics.h"
#include "rules/policy.h"

namespace sgate::control {

// The keys under P/policy/ as one reader (a node, `sgatectl fleet get`)
// sees them, and the Policy they make. Each object is parsed when it
// arrives and its parse is kept, so a push of one changed group costs one
// object's parse, then the assembly (copying the parsed objects into one
// Policy) and FinalizePolicy over the whole.
class FleetObjects {
 public:
  explicit FleetObjects(FleetLayout layout) : layout_(std::move(layout)) {}

  void Clear() { objects_.clear(); }
  void Put(const std::string& key, const std::string& value,
           int64_t mod_revision);
  void Delete(const std::string& key) { objects_.erase(key); }
  // Everything a range under P/policy/ read.
  void Reset(const std::vector<EtcdKeyValue>& kvs);

  // One Policy from every object, as a policy file would load: every
  // object's errors and FinalizePolicy's, each located at its key
  // ("P/policy/security_groups/sg-web:3:12: security_groups.sg-web...").
  // A key the layout does not know is an error too, and so is a commit
  // record of another format version.
  absl::StatusOr<rules::Policy> Assemble() const;

  // key -> value, what the cache file keeps.
  std::map<std::string, std::string> Values() const;

  // The commit record's mod_revision (0: none), whether a push is being
  // written (the staging key exists), the newest mod_revision of any other
  // key.
  int64_t commit_revision() const;
  bool staging() const;
  int64_t newest_object_revision() const;
  size_t size() const { return objects_.size(); }
  const FleetLayout& layout() const { return layout_; }

 private:
  struct Object {
    std::string value;
    int64_t mod_revision = 0;
    FleetLayout::PolicyKey what;
    // kObject: the object parsed alone (one entry, or the settings).
    rules::Policy parsed;
    rules::Diagnostics diagnostics;
  };
  FleetLayout layout_;
  std::map<std::string, Object> objects_;
};

}  // namespace sgate::control

namespace sgate::control {

// Reads into `objects` the policy as it stood at the newest commit at or
// before revision `at` (0: the latest), never part of a push: when a push
// is being written (the staging key, or objects newer than the commit),
// the objects are read again at the commit's revision. Returns the
// revision they were read at (a watch resumes after it);
// objects.commit_revision() is 0 when no policy was ever pushed.
// kUnavailable when the commit's revision is compacted while a push is
// being written (try again once it commits).
absl::StatusOr<int64_t> ReadCommittedPolicy(EtcdClient& etcd, int64_t at,
                                            FleetObjects& objects);

}  // namespace sgate::control
