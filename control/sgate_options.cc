#include "control/sgate_options.h"

#include <filesystem>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace sgate::control {
namespace {

absl::Status Usage(absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(problem, "\n", kSgateUsage));
}

bool ParsePort(absl::string_view text, uint16_t* port) {
  uint32_t value = 0;
  // Whether the port exists is checked when it is set up, with EAL.
  if (!absl::SimpleAtoi(text, &value) || value > UINT16_MAX) {
    return false;
  }
  *port = static_cast<uint16_t>(value);
  return true;
}

}  // namespace

absl::StatusOr<SgateOptions> ParseSgateOptions(
    const std::vector<std::string>& args) {
  SgateOptions options;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--watch" || arg == "--no-rss" || arg == "--dry-run") {
      (arg == "--watch"    ? options.watch
       : arg == "--no-rss" ? options.no_rss
                           : options.dry_run) = true;
      continue;
    }
    absl::StatusOr<bool> etcd_option = ParseEtcdOption(args, i, options.etcd);
    if (!etcd_option.ok()) return Usage(etcd_option.status().message());
    if (*etcd_option) continue;
    if (arg != "--policy" && arg != "--pair" && arg != "--node" &&
        arg != "--control" && arg != "--stats-interval" &&
        arg != "--aws-json" && arg != "--mbufs" && arg != "--mbuf-size" &&
        arg != "--flow-log" && arg != "--metrics" && arg != "--cache" &&
        arg != "--max-flows") {
      return Usage(absl::StrCat("unknown option '", arg, "'"));
    }
    if (i + 1 == args.size()) return Usage(absl::StrCat(arg, " needs a value"));
    const std::string& value = args[++i];
    if (arg == "--policy") {
      options.policy_path = value;
    } else if (arg == "--aws-json") {
      options.aws_json_path = value;
    } else if (arg == "--flow-log") {
      // Absolute, so that it names the same file whatever the working
      // directory when it is reopened.
      std::error_code error;
      std::filesystem::path path = std::filesystem::absolute(value, error);
      if (value.empty() || error) {
        return Usage(absl::StrCat("--flow-log expects a file, got '", value,
                                  "'"));
      }
      options.flow_log_path = path.string();
    } else if (arg == "--metrics") {
      // Checked when sgate listens on it (control/metrics.h).
      options.metrics_address = value;
    } else if (arg == "--node") {
      options.node = value;
    } else if (arg == "--control") {
      options.control_path = value;
    } else if (arg == "--stats-interval") {
      // Seconds, with a fraction for rate measurements (perf/run: 0.05).
      double seconds = 0;
      if (!absl::SimpleAtod(value, &seconds) || seconds < 0 ||
          seconds > 86400 || (seconds > 0 && seconds < 0.01)) {
        return Usage(absl::StrCat(
            "--stats-interval expects seconds (0, or 0.01 to 86400), got '",
            value, "'"));
      }
      options.stats_interval_ms = static_cast<uint32_t>(seconds * 1000 + 0.5);
    } else if (arg == "--cache") {
      options.cache_path = value;
    } else if (arg == "--max-flows") {
      if (!absl::SimpleAtoi(value, &options.max_flows) ||
          options.max_flows == 0) {
        return Usage(absl::StrCat("--max-flows expects a positive count, got '",
                                  value, "'"));
      }
    } else if (arg == "--mbufs") {
      if (!absl::SimpleAtoi(value, &options.mbufs) || options.mbufs == 0) {
        return Usage(absl::StrCat("--mbufs expects a positive count, got '",
                                  value, "'"));
      }
    } else if (arg == "--mbuf-size") {
      // Room for the headroom and at least a minimum frame; an mbuf's
      // data length is 16 bits.
      if (!absl::SimpleAtoi(value, &options.mbuf_size) ||
          options.mbuf_size < kMinMbufSize || options.mbuf_size > 65535) {
        return Usage(absl::StrCat("--mbuf-size expects bytes from ",
                                  kMinMbufSize, " to 65535, got '", value,
                                  "'"));
      }
    } else {  // --pair
      std::vector<absl::string_view> ports = absl::StrSplit(value, ':');
      dataplane::PortPairIds pair;
      if (ports.size() != 2 || !ParsePort(ports[0], &pair.inside) ||
          !ParsePort(ports[1], &pair.outside) || pair.inside == pair.outside) {
        return Usage(absl::StrCat(
            "--pair expects IN:OUT, two different port numbers, got '", value,
            "'"));
      }
      options.pairs.push_back(pair);
    }
  }
  if (options.fleet()) {
    if (!options.policy_path.empty() || options.aws_json_path ||
        options.watch) {
      return Usage(
          "--etcd takes the policy from etcd: --policy, --aws-json and "
          "--watch do not go with it");
    }
    if (options.node.empty()) {
      return Usage("--etcd needs --node NAME: the node's name in the fleet");
    }
    if (absl::Status s = ValidateEtcdOptions(options.etcd); !s.ok()) {
      return Usage(s.message());
    }
  } else {
    if (options.policy_path.empty()) {
      return Usage("--policy FILE is required (or --etcd URL: a fleet node)");
    }
    if (!options.cache_path.empty() || options.max_flows != 0 ||
        !options.etcd.cacert.empty() || !options.etcd.cert.empty() ||
        !options.etcd.key.empty() ||
        options.etcd.prefix != EtcdOptions().prefix) {
      return Usage(
          "--cache, --max-flows and the --etcd-* options go with --etcd");
    }
  }
  if (options.pairs.empty()) options.pairs.push_back({});
  std::set<uint16_t> used;
  for (const dataplane::PortPairIds& pair : options.pairs) {
    for (uint16_t port : {pair.inside, pair.outside}) {
      if (!used.insert(port).second) {
        return Usage(absl::StrCat("port ", port, " is in two --pair options"));
      }
    }
  }
  return options;
}

}  // namespace sgate::control
