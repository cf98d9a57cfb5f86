#include "control/sgate_options.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sgate::control {
namespace {

using ::testing::HasSubstr;

TEST(SgateOptionsTest, Defaults) {
  absl::StatusOr<SgateOptions> o = ParseSgateOptions({"--policy", "p.yaml"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->policy_path, "p.yaml");
  ASSERT_EQ(o->pairs.size(), 1u);
  EXPECT_EQ(o->pairs[0].inside, 0);
  EXPECT_EQ(o->pairs[0].outside, 1);
  EXPECT_EQ(o->control_path, "/run/sgate/control.sock");
  EXPECT_EQ(o->node, "");
  EXPECT_EQ(o->stats_interval_ms, 0u);
  EXPECT_FALSE(o->watch);
  EXPECT_EQ(o->mbufs, 0u);
  EXPECT_EQ(o->mbuf_size, 0u);
  EXPECT_FALSE(o->no_rss);
  EXPECT_FALSE(o->aws_json_path.has_value());
}

TEST(SgateOptionsTest, Everything) {
  absl::StatusOr<SgateOptions> o = ParseSgateOptions(
      {"--policy", "p.yaml", "--pair", "2:3", "--pair", "1:0", "--node",
       "host-b", "--control", "/tmp/s.sock", "--stats-interval", "5",
       "--aws-json", "g.json", "--watch", "--mbufs", "4096", "--mbuf-size", "256",
       "--no-rss"});
  ASSERT_TRUE(o.ok()) << o.status();
  ASSERT_EQ(o->pairs.size(), 2u);
  EXPECT_EQ(o->pairs[0].inside, 2);
  EXPECT_EQ(o->pairs[0].outside, 3);
  EXPECT_EQ(o->pairs[1].inside, 1);
  EXPECT_EQ(o->pairs[1].outside, 0);
  EXPECT_EQ(o->node, "host-b");
  EXPECT_EQ(o->control_path, "/tmp/s.sock");
  EXPECT_EQ(o->stats_interval_ms, 5000u);
  EXPECT_EQ(o->mbufs, 4096u);
  EXPECT_EQ(o->mbuf_size, 256u);
  EXPECT_TRUE(o->no_rss);
  EXPECT_EQ(*o->aws_json_path, "g.json");
  EXPECT_TRUE(o->watch);
}

TEST(SgateOptionsTest, FleetNode) {
  absl::StatusOr<SgateOptions> o = ParseSgateOptions(
      {"--etcd", "https://10.0.0.1:2379/,https://10.0.0.2:2379",
       "--etcd-prefix", "/vpc-1/", "--node", "hv-7", "--cache",
       "/var/lib/sgate/cache.json", "--etcd-cacert", "ca.pem", "--etcd-cert",
       "c.pem", "--etcd-key", "k.pem", "--max-flows", "4096", "--dry-run"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_TRUE(o->fleet());
  EXPECT_THAT(o->etcd.endpoints,
              ::testing::ElementsAre("https://10.0.0.1:2379",
                                     "https://10.0.0.2:2379"));
  EXPECT_EQ(o->etcd.prefix, "/vpc-1");
  EXPECT_EQ(o->etcd.cacert, "ca.pem");
  EXPECT_EQ(o->etcd.cert, "c.pem");
  EXPECT_EQ(o->etcd.key, "k.pem");
  EXPECT_EQ(o->node, "hv-7");
  EXPECT_EQ(o->cache_path, "/var/lib/sgate/cache.json");
  EXPECT_EQ(o->max_flows, 4096u);
  EXPECT_TRUE(o->dry_run);
  EXPECT_TRUE(o->policy_path.empty());

  o = ParseSgateOptions({"--etcd", "http://127.0.0.1:2379", "--node", "a"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->etcd.prefix, "/sgate");
  EXPECT_FALSE(o->dry_run);
}

TEST(SgateOptionsTest, FractionalStatsInterval) {
  absl::StatusOr<SgateOptions> o =
      ParseSgateOptions({"--policy", "p", "--stats-interval", "0.05"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->stats_interval_ms, 50u);
}

TEST(SgateOptionsTest, Errors) {
  struct Case {
    std::vector<std::string> args;
    const char* message;
  };
  const Case cases[] = {
      {{}, "--policy FILE is required"},
      {{"--policy"}, "--policy needs a value"},
      {{"--policy", "p", "--pair", "0"}, "--pair expects IN:OUT"},
      {{"--policy", "p", "--pair", "1:1"}, "two different port numbers"},
      {{"--policy", "p", "--pair", "0:x"}, "--pair expects IN:OUT"},
      {{"--policy", "p", "--pair", "0:70000"}, "--pair expects IN:OUT"},
      {{"--policy", "p", "--pair", "0:1", "--pair", "1:2"},
       "port 1 is in two --pair options"},
      {{"--policy", "p", "--stats-interval", "soon"}, "expects seconds"},
      {{"--policy", "p", "--stats-interval", "0.001"}, "expects seconds"},
      {{"--policy", "p", "--stats-interval", "-1"}, "expects seconds"},
      {{"--policy", "p", "--mbufs", "0"}, "--mbufs expects a positive"},
      {{"--policy", "p", "--mbuf-size", "100"}, "--mbuf-size expects bytes"},
      {{"--policy", "p", "--mbuf-size", "70000"}, "--mbuf-size expects bytes"},
      {{"--policy", "p", "--verbose"}, "unknown option '--verbose'"},
      {{"--etcd", "http://e:2379"}, "--etcd needs --node NAME"},
      {{"--etcd", "http://e:2379", "--node", "a", "--policy", "p"},
       "--policy, --aws-json and --watch do not go with it"},
      {{"--etcd", "http://e:2379", "--node", "a", "--watch"},
       "do not go with it"},
      {{"--etcd", "e:2379", "--node", "a"},
       "--etcd expects http:// or https:// URLs, got 'e:2379'"},
      {{"--etcd", "http://e:2379", "--node", "a", "--etcd-cacert", "ca"},
       "need https:// endpoints"},
      {{"--etcd", "https://e:2379", "--node", "a", "--etcd-cert", "c"},
       "--etcd-cert and --etcd-key go together"},
      {{"--etcd", "https://e:2379", "--node", "a", "--etcd-prefix", "/"},
       "--etcd-prefix expects a key prefix"},
      {{"--etcd"}, "--etcd needs a value"},
      {{"--policy", "p", "--cache", "c"}, "go with --etcd"},
      {{"--etcd", "http://e:2379", "--node", "a", "--max-flows", "0"},
       "--max-flows expects a positive count"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<SgateOptions> o = ParseSgateOptions(c.args);
    ASSERT_FALSE(o.ok()) << c.message;
    EXPECT_THAT(o.status().message(), HasSubstr(c.message));
    EXPECT_THAT(o.status().message(), HasSubstr("usage: sgate"));
  }
}

}  // namespace
}  // namespace sgate::control
