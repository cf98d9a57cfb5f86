#include "control/fleet_layout.h"

#include <ctime>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "control/json_writer.h"
#include "yaml-cpp/yaml.h"

namespace sgate::control {
namespace {

constexpr rules::PolicySection kNamedSections[] = {
    rules::PolicySection::kPrefixLists, rules::PolicySection::kSecurityGroups,
    rules::PolicySection::kInterfaces};

}  // namespace

std::string FleetLayout::ObjectKey(rules::PolicySection section,
                                   absl::string_view name) const {
  if (section == rules::PolicySection::kSettings) {
    return PolicyPrefix() + "settings";
  }
  return absl::StrCat(PolicyPrefix(), rules::SectionName(section), "/", name);
}

FleetLayout::PolicyKey FleetLayout::ParsePolicyKey(
    absl::string_view key) const {
  PolicyKey parsed;
  const std::string policy_prefix = PolicyPrefix();
  if (!absl::ConsumePrefix(&key, policy_prefix)) return parsed;
  if (key == "commit") {
    parsed.kind = PolicyKey::Kind::kCommit;
  } else if (key == "staging") {
    parsed.kind = PolicyKey::Kind::kStaging;
  } else if (key == "settings") {
    parsed.kind = PolicyKey::Kind::kObject;
    parsed.section = rules::PolicySection::kSettings;
  } else {
    for (rules::PolicySection section : kNamedSections) {
      // A name is everything after the section: it may hold '/'.
      if (absl::ConsumePrefix(&key,
                              absl::StrCat(rules::SectionName(section), "/"))) {
        parsed.kind = PolicyKey::Kind::kObject;
        parsed.section = section;
        parsed.name = std::string(key);
        break;
      }
    }
  }
  return parsed;
}

std::string FleetLayout::UnknownKeyMessage() const {
  const std::string p = PolicyPrefix();
  return absl::StrCat("not a key of sgate's policy layout; expected ", p,
                      "settings, ", p, "prefix_lists/NAME, ", p,
                      "security_groups/NAME, ", p, "interfaces/NAME, ", p,
                      "commit or ", p, "staging");
}

std::string CommitRecordJson(int64_t objects) {
  JsonWriter j;
  j.BeginObject();
  j.Field("version", 1);
  j.Field("objects", objects);
  j.Field("pushed_at", Rfc3339(UnixNow()));
  j.EndObject();
  return j.str();
}

void CheckCommitRecord(absl::string_view value, const std::string& key,
                       rules::Diagnostics& diagnostics) {
  YAML::Node record;
  try {
    record = YAML::Load(std::string(value));
  } catch (const YAML::Exception& e) {
    diagnostics.Error({key, e.mark.line + 1, e.mark.column + 1},
                      absl::StrCat("the commit record is not JSON: ", e.msg));
    return;
  }
  if (!record.IsMap()) {
    diagnostics.Error({key, 0, 0},
                      "the commit record must be a JSON object such as "
                      "{\"version\": 1}");
    return;
  }
  const YAML::Node version = record["version"];
  if (version.IsDefined() && !(version.IsScalar() && version.Scalar() == "1")) {
    YAML::Mark mark = version.Mark();
    diagnostics.Error(
        {key, mark.line + 1, mark.column + 1},
        absl::StrCat("version: ",
                     version.IsScalar() ? version.Scalar() : "(not a number)",
                     " is not supported; expected 1"));
  }
}

std::string Rfc3339(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

int64_t ParseRfc3339(absl::string_view text) {
  std::tm tm{};
  std::string copy(text);
  const char* end = strptime(copy.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (end == nullptr || *end != '\0') return 0;
  return static_cast<int64_t>(timegm(&tm));
}

int64_t UnixNow() { return static_cast<int64_t>(std::time(nullptr)); }

}  // namespace sgate::control
