#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"

#include "rules/diagnostics.h"
#include "yaml-cpp/yaml.h"

namespace sgate::rules {

// Reads YAML (and JSON, which yaml-cpp parses as YAML) nodes into model
// values. Every problem becomes a Diagnostic at the node's line and column;
// nothing here throws, and yaml-cpp exceptions stop at Parse(). Each reader
// method names what it expected, so callers pass `what` as the user would
// recognise it: "security_groups.sg-web.ingress[2].ports".
class YamlReader {
 public:
  YamlReader(std::string file, Diagnostics& diagnostics)
      : file_(std::move(file)), diagnostics_(diagnostics) {}

  // The document's root, or nullopt after recording the syntax error.
  std::optional<YAML::Node> Parse(absl::string_view text);

  SourceLocation Where(const YAML::Node& node) const;
  void Error(const YAML::Node& node, std::string message);

  // Each returns false (after recording an error) when the node has another
  // type. A null node (`key:` with no value) counts as the wrong type.
  bool ExpectMap(const YAML::Node& node, absl::string_view what);
  bool ExpectSequence(const YAML::Node& node, absl::string_view what);

  // Records an error for each key of `map` that is not in `allowed` and for
  // each key given twice. Returns true if there were none.
  bool CheckKeys(const YAML::Node& map, absl::string_view what,
                 std::initializer_list<absl::string_view> allowed);

  std::optional<std::string> String(const YAML::Node& node,
                                    absl::string_view what);
  // An integer in [min, max], written as a YAML integer or a quoted one.
  std::optional<int64_t> Integer(const YAML::Node& node, absl::string_view what,
                                 int64_t min, int64_t max);
  std::optional<bool> Bool(const YAML::Node& node, absl::string_view what);

  // A scalar, or a sequence of scalars, as a list of (node, text) pairs;
  // e.g. `cidr: 0.0.0.0/0` and `cidr: [0.0.0.0/0, "::/0"]`.
  std::vector<std::pair<YAML::Node, std::string>> StringOrList(
      const YAML::Node& node, absl::string_view what);

  const std::string& file() const { return file_; }
  Diagnostics& diagnostics() { return diagnostics_; }

 private:
  std::string file_;
  Diagnostics& diagnostics_;
};

// "a scalar", "a map", "a list" or "nothing", for messages.
absl::string_view NodeTypeName(const YAML::Node& node);

}  // namespace sgate::rules
