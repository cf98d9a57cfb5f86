#include "rules/aws_json.h"

#include "absl/strings/str_cat.h"
#include "rules/yaml_reader.h"

namespace sgate::rules {
namespace {

// The keys `aws ec2 describe-security-groups` prints. Values of the ones
// sgate has no use for (owner, VPC, tags, peering) are accepted and
// ignored; anything else is a typo and an error.
constexpr std::initializer_list<absl::string_view> kGroupKeys = {
    "GroupId", "GroupName", "Description", "OwnerId", "VpcId", "Tags",
    "IpPermissions", "IpPermissionsEgress", "SecurityGroupArn"};
constexpr std::initializer_list<absl::string_view> kPermissionKeys = {
    "IpProtocol", "FromPort", "ToPort", "IpRanges", "Ipv6Ranges",
    "PrefixListIds", "UserIdGroupPairs"};

class AwsParser {
 public:
  AwsParser(absl::string_view file, Diagnostics& diagnostics, Policy& policy)
      : reader_(std::string(file), diagnostics), policy_(policy) {}

  void Parse(absl::string_view text) {
    std::optional<YAML::Node> root = reader_.Parse(text);
    if (!root || !reader_.ExpectMap(*root, "describe-security-groups output"))
      return;
    // NextToken appears in paginated output; it names no group.
    reader_.CheckKeys(*root, "describe-security-groups output",
                      {"SecurityGroups", "NextToken"});
    const YAML::Node groups = (*root)["SecurityGroups"];
    if (!groups.IsDefined()) {
      reader_.Error(*root, "SecurityGroups is missing; expected the output of "
                           "'aws ec2 describe-security-groups'");
      return;
    }
    if (!reader_.ExpectSequence(groups, "SecurityGroups")) return;
    for (size_t i = 0; i < groups.size(); ++i) {
      ParseGroup(groups[i], absl::StrCat("SecurityGroups[", i, "]"));
    }
  }

 private:
  void ParseGroup(const YAML::Node& node, const std::string& what) {
    if (!reader_.ExpectMap(node, what)) return;
    reader_.CheckKeys(node, what, kGroupKeys);
    // A group without a usable GroupId is still read, into a scratch group
    // that is thrown away, so the errors in its rules are reported too.
    SecurityGroup scratch;
    SecurityGroup* target = &scratch;
    std::optional<std::string> name;
    const YAML::Node id = node["GroupId"];
    if (!id.IsDefined()) {
      reader_.Error(node, what + ": GroupId is missing");
    } else {
      name = reader_.String(id, what + ".GroupId");
    }
    if (name) {
      auto existing = policy_.security_groups.find(*name);
      if (existing != policy_.security_groups.end()) {
        reader_.Error(id, absl::StrCat(what, ".GroupId: group '", *name,
                                       "' is defined twice; first at ",
                                       existing->second.location.ToString()));
      } else {
        target = &policy_.security_groups[*name];
        target->name = *name;
      }
    }
    SecurityGroup& group = *target;
    group.location = reader_.Where(id.IsDefined() ? id : node);
    // The JSON is a group's actual state: no egress key means no egress.
    group.egress_omitted = false;
    if (const YAML::Node d = node["Description"]; d.IsDefined()) {
      group.description = reader_.String(d, what + ".Description").value_or("");
    }
    for (Direction d : {Direction::kIngress, Direction::kEgress}) {
      const char* key =
          d == Direction::kIngress ? "IpPermissions" : "IpPermissionsEgress";
      const YAML::Node permissions = node[key];
      if (!permissions.IsDefined()) continue;
      std::string list_what = absl::StrCat(what, ".", key);
      if (!reader_.ExpectSequence(permissions, list_what)) continue;
      for (size_t i = 0; i < permissions.size(); ++i) {
        ParsePermission(permissions[i], absl::StrCat(list_what, "[", i, "]"),
                        group.rules(d));
      }
    }
  }

  // Protocol, ports and ICMP fields of one IpPermission, shared by the rules
  // its remotes become. Returns false after reporting an error.
  bool ParseMatch(const YAML::Node& node, const std::string& what,
                  Rule& match) {
    const YAML::Node protocol = node["IpProtocol"];
    if (!protocol.IsDefined()) {
      reader_.Error(node, what + ": IpProtocol is missing");
      return false;
    }
    std::optional<std::string> text =
        reader_.String(protocol, what + ".IpProtocol");
    if (!text) return false;
    std::optional<int> p = ParseProtocol(*text);
    if (!p) {
      reader_.Error(protocol, absl::StrCat(what, ".IpProtocol: '", *text,
                                           "' is not a protocol; expected "
                                           "tcp, udp, icmp, icmpv6, -1 or a "
                                           "number"));
      return false;
    }
    match.protocol = *p;
    // AWS ignores FromPort/ToPort for protocols without ports (and for -1).
    if (!HasPorts(match.protocol) && !HasIcmpFields(match.protocol)) {
      return true;
    }
    const YAML::Node from = node["FromPort"];
    const YAML::Node to = node["ToPort"];
    if (HasIcmpFields(match.protocol)) {
      // FromPort is the ICMP type and ToPort the code; -1 is any.
      std::optional<int64_t> type =
          from.IsDefined() ? reader_.Integer(from, what + ".FromPort", -1, 255)
                           : int64_t{-1};
      std::optional<int64_t> code =
          to.IsDefined() ? reader_.Integer(to, what + ".ToPort", -1, 255)
                         : int64_t{-1};
      if (!type || !code) return false;
      if (*type == -1 && *code != -1) {
        reader_.Error(to, absl::StrCat(what, ".ToPort: ICMP code ", *code,
                                       " needs a type; a type of -1 (any) "
                                       "requires a code of -1"));
        return false;
      }
      match.icmp_type = static_cast<int>(*type);
      match.icmp_code = static_cast<int>(*code);
      return true;
    }
    // tcp/udp: FromPort-ToPort; -1 on both (or neither given) is all ports.
    std::optional<int64_t> low =
        from.IsDefined() ? reader_.Integer(from, what + ".FromPort", -1, 65535)
                         : int64_t{-1};
    std::optional<int64_t> high =
        to.IsDefined() ? reader_.Integer(to, what + ".ToPort", -1, 65535)
                       : int64_t{-1};
    if (!low || !high) return false;
    if (*low == -1 && *high == -1) return true;
    if (*low == -1 || *high == -1 || *low > *high) {
      reader_.Error(from.IsDefined() ? from : node,
                    absl::StrCat(what, ": FromPort ", *low, " to ToPort ",
                                 *high, " is not a port range; expected "
                                 "FromPort <= ToPort, both 0 to 65535"));
      return false;
    }
    match.port_low = static_cast<uint16_t>(*low);
    match.port_high = static_cast<uint16_t>(*high);
    return true;
  }

  void ParsePermission(const YAML::Node& node, const std::string& what,
                       std::vector<Rule>& rules) {
    if (!reader_.ExpectMap(node, what)) return;
    reader_.CheckKeys(node, what, kPermissionKeys);
    Rule match;
    match.location = reader_.Where(node);
    // After a bad protocol or port range the remote entries are still
    // checked (so their errors are reported too) but become no rules.
    const bool match_ok = ParseMatch(node, what, match);
    // Each remote entry becomes one rule with the permission's match.
    auto each = [&](const char* list_key, const char* item_key,
                    std::initializer_list<absl::string_view> keys,
                    auto&& fill) {
      const YAML::Node list = node[list_key];
      if (!list.IsDefined()) return;
      std::string list_what = absl::StrCat(what, ".", list_key);
      if (!reader_.ExpectSequence(list, list_what)) return;
      for (size_t i = 0; i < list.size(); ++i) {
        const YAML::Node item = list[i];
        std::string item_what = absl::StrCat(list_what, "[", i, "]");
        if (!reader_.ExpectMap(item, item_what)) continue;
        reader_.CheckKeys(item, item_what, keys);
        const YAML::Node value = item[item_key];
        if (!value.IsDefined()) {
          reader_.Error(item, absl::StrCat(item_what, ": ", item_key,
                                           " is missing"));
          continue;
        }
        std::optional<std::string> text =
            reader_.String(value, absl::StrCat(item_what, ".", item_key));
        if (!text) continue;
        Rule rule = match;
        rule.location = reader_.Where(item);
        if (const YAML::Node d = item["Description"]; d.IsDefined()) {
          rule.description =
              reader_.String(d, item_what + ".Description").value_or("");
        }
        if (fill(rule, value, *text, absl::StrCat(item_what, ".", item_key)) &&
            match_ok) {
          rules.push_back(std::move(rule));
        }
      }
    };
    auto cidr = [this](Rule& rule, const YAML::Node& value,
                       const std::string& text, const std::string& item_what) {
      absl::StatusOr<Cidr> c = ParseCidr(text);
      if (!c.ok()) {
        reader_.Error(value, absl::StrCat(item_what, ": ",
                                          c.status().message()));
        return false;
      }
      rule.remote_kind = RemoteKind::kCidr;
      rule.cidrs = {*c};
      return true;
    };
    auto named = [this](RemoteKind kind) {
      return [this, kind](Rule& rule, const YAML::Node& value,
                          const std::string& text, const std::string&) {
        rule.remote_kind = kind;
        rule.remote_name = text;
        rule.remote_location = reader_.Where(value);
        return true;
      };
    };
    each("IpRanges", "CidrIp", {"CidrIp", "Description"}, cidr);
    each("Ipv6Ranges", "CidrIpv6", {"CidrIpv6", "Description"}, cidr);
    each("PrefixListIds", "PrefixListId", {"PrefixListId", "Description"},
         named(RemoteKind::kPrefixList));
    each("UserIdGroupPairs", "GroupId",
         {"GroupId", "GroupName", "UserId", "Description", "VpcId",
          "VpcPeeringConnectionId", "PeeringStatus"},
         named(RemoteKind::kSecurityGroup));
  }

  YamlReader reader_;
  Policy& policy_;
};

}  // namespace

void ParseAwsSecurityGroups(absl::string_view json, absl::string_view file_name,
                            Policy& policy, Diagnostics& diagnostics) {
  try {
    AwsParser(file_name, diagnostics, policy).Parse(json);
  } catch (const YAML::Exception& e) {
    diagnostics.Error({std::string(file_name), e.mark.line + 1,
                       e.mark.column + 1},
                      absl::StrCat("cannot read this JSON: ", e.msg));
  }
}

}  // namespace sgate::rules
