#include "rules/yaml_reader.h"

#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace sgate::rules {

absl::string_view NodeTypeName(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      return "a scalar";
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a list";
    default:
      return "nothing";
  }
}

std::optional<YAML::Node> YamlReader::Parse(absl::string_view text) {
  try {
    YAML::Node root = YAML::Load(std::string(text));
    return root;
  } catch (const YAML::Exception& e) {
    // yaml-cpp marks are 0-based.
    diagnostics_.Error({file_, e.mark.line + 1, e.mark.column + 1},
                       absl::StrCat("syntax error: ", e.msg));
    return std::nullopt;
  }
}

SourceLocation YamlReader::Where(const YAML::Node& node) const {
  YAML::Mark mark = node.Mark();
  if (mark.is_null()) return {file_, 0, 0};
  return {file_, mark.line + 1, mark.column + 1};
}

void YamlReader::Error(const YAML::Node& node, std::string message) {
  diagnostics_.Error(Where(node), std::move(message));
}

bool YamlReader::ExpectMap(const YAML::Node& node, absl::string_view what) {
  if (node.IsMap()) return true;
  Error(node, absl::StrCat(what, ": expected a map, found ",
                           NodeTypeName(node)));
  return false;
}

bool YamlReader::ExpectSequence(const YAML::Node& node,
                                absl::string_view what) {
  if (node.IsSequence()) return true;
  Error(node, absl::StrCat(what, ": expected a list, found ",
                           NodeTypeName(node)));
  return false;
}

bool YamlReader::CheckKeys(const YAML::Node& map, absl::string_view what,
                           std::initializer_list<absl::string_view> allowed) {
  bool ok = true;
  std::set<std::string> seen;
  for (const auto& entry : map) {
    const YAML::Node& key = entry.first;
    if (!key.IsScalar()) {
      Error(key, absl::StrCat(what, ": expected a key name, found ",
                              NodeTypeName(key)));
      ok = false;
      continue;
    }
    const std::string& name = key.Scalar();
    if (!seen.insert(name).second) {
      Error(key, absl::StrCat(what, ": key '", name, "' is given twice"));
      ok = false;
    }
    if (allowed.size() == 0) continue;  // free-form names (groups, lists)
    bool known = false;
    for (absl::string_view a : allowed) known = known || a == name;
    if (!known) {
      Error(key, absl::StrCat(what, ": unknown key '", name, "'; expected ",
                              absl::StrJoin(allowed, ", ")));
      ok = false;
    }
  }
  return ok;
}

std::optional<std::string> YamlReader::String(const YAML::Node& node,
                                              absl::string_view what) {
  if (!node.IsScalar()) {
    Error(node, absl::StrCat(what, ": expected a string, found ",
                             NodeTypeName(node)));
    return std::nullopt;
  }
  return node.Scalar();
}

std::optional<int64_t> YamlReader::Integer(const YAML::Node& node,
                                           absl::string_view what, int64_t min,
                                           int64_t max) {
  int64_t value = 0;
  if (!node.IsScalar() || !absl::SimpleAtoi(node.Scalar(), &value)) {
    Error(node, absl::StrCat(what, ": expected an integer from ", min, " to ",
                             max, ", found ",
                             node.IsScalar() ? absl::StrCat("'", node.Scalar(),
                                                            "'")
                                             : std::string(NodeTypeName(node))));
    return std::nullopt;
  }
  if (value < min || value > max) {
    Error(node, absl::StrCat(what, ": ", value, " is out of range; expected ",
                             min, " to ", max));
    return std::nullopt;
  }
  return value;
}

std::optional<bool> YamlReader::Bool(const YAML::Node& node,
                                     absl::string_view what) {
  if (node.IsScalar()) {
    const std::string& s = node.Scalar();
    if (s == "true") return true;
    if (s == "false") return false;
  }
  Error(node, absl::StrCat(what, ": expected true or false, found ",
                           node.IsScalar() ? absl::StrCat("'", node.Scalar(),
                                                          "'")
                                           : std::string(NodeTypeName(node))));
  return std::nullopt;
}

std::vector<std::pair<YAML::Node, std::string>> YamlReader::StringOrList(
    const YAML::Node& node, absl::string_view what) {
  std::vector<std::pair<YAML::Node, std::string>> items;
  if (node.IsScalar()) {
    items.emplace_back(node, node.Scalar());
    return items;
  }
  if (!node.IsSequence()) {
    Error(node, absl::StrCat(what, ": expected a string or a list of strings, "
                             "found ", NodeTypeName(node)));
    return items;
  }
  for (const YAML::Node& item : node) {
    if (std::optional<std::string> s = String(item, what)) {
      items.emplace_back(item, *s);
    }
  }
  return items;
}

}  // namespace sgate::rules
