#include "control/metrics.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "control/latest_stats.h"
#include "prometheus/text_serializer.h"

namespace sgate::control {
namespace {

using dataplane::CounterSection;
using ::testing::HasSubstr;

StatsSnapshot Sample() {
  StatsSnapshot s;
  s.generation = 3;
  s.reloads_rejected = 1;
  s.last_grace_period_us = 1500;
  StatsSnapshot::Port& p = s.ports.emplace_back();
  p.port = 1;
  p.name = "net_af_packet1";
  p.counters = {10, 9, 1};
  s.counters[dataplane::CounterIndex(CounterSection::kPackets, "received")] = 20;
  s.counters[dataplane::CounterIndex(CounterSection::kDrops,
                                     "interface_flow_cap")] = 4;
  s.counters[dataplane::CounterIndex(CounterSection::kFlows, "active")] = 6;
  s.counters[dataplane::CounterIndex(CounterSection::kFlowLogs, "records")] = 8;
  s.rules_admitted.push_back({"sg-web", rules::Direction::kIngress, 2, 5});
  StatsSnapshot::Interface& i = s.interfaces.emplace_back();
  i.name = "eni-a";
  i.max_flows = 100;
  i.counters = {6, 4, 2, 0};  // flows, interface_flow_cap, spoofed, lost
  return s;
}

std::string Text(const StatsSnapshot& s) {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, MetricFamilies(s));
  return out.str();
}

TEST(MetricsTest, NamesFollowPrometheusConventions) {
  std::set<std::string> names;
  for (const prometheus::MetricFamily& f : MetricFamilies(Sample())) {
    SCOPED_TRACE(f.name);
    EXPECT_TRUE(names.insert(f.name).second) << "a family twice";
    EXPECT_TRUE(std::regex_match(f.name, std::regex("sgate_[a-z0-9_]+")));
    EXPECT_FALSE(f.help.empty());
    bool total = f.name.size() > 6 &&
                 f.name.compare(f.name.size() - 6, 6, "_total") == 0;
    EXPECT_EQ(total, f.type == prometheus::MetricType::Counter);
  }
  // Labels, not names: one family for every drop reason.
  EXPECT_EQ(names.count("sgate_packets_dropped_total"), 1u);
  EXPECT_EQ(names.count("sgate_packets_dropped_no_rule_matched_total"), 0u);
}

TEST(MetricsTest, ValuesComeFromTheSnapshot) {
  std::string text = Text(Sample());
  for (const char* line : {
           "sgate_policy_generation 3",
           "sgate_reloads_total{result=\"accepted\"} 2",
           "sgate_reloads_total{result=\"rejected\"} 1",
           "sgate_reload_grace_period_seconds 0.0015",
           "sgate_packets_received_total 20",
           "sgate_packets_dropped_total{reason=\"interface_flow_cap\"} 4",
           "sgate_packets_dropped_total{reason=\"no_rule_matched\"} 0",
           "sgate_flows_active 6",
           "sgate_flows_created_total 0",
           "sgate_flow_log_records_total 8",
           "sgate_port_rx_packets_total{port=\"1\",name=\"net_af_packet1\"} 10",
           "sgate_interface_flows{interface=\"eni-a\"} 6",
           "sgate_interface_max_flows{interface=\"eni-a\"} 100",
           "sgate_interface_packets_dropped_total{interface=\"eni-a\","
           "reason=\"interface_flow_cap\"} 4",
           "sgate_interface_packets_dropped_total{interface=\"eni-a\","
           "reason=\"spoofed_source\"} 2",
           "sgate_interface_flow_log_records_lost_total{interface=\"eni-a\"} 0",
           "sgate_rule_flows_admitted_total{group=\"sg-web\","
           "direction=\"ingress\",index=\"2\"} 5",
       }) {
    EXPECT_THAT(text, HasSubstr(absl::StrCat("\n", line, "\n"))) << text;
  }
}

// One HTTP/1.0 request to 127.0.0.1:`port`; the whole reply.
std::string Get(int port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    close(fd);
    return "";
  }
  std::string request =
      absl::StrCat("GET ", path, " HTTP/1.0\r\nConnection: close\r\n\r\n");
  (void)!write(fd, request.data(), request.size());
  std::string reply;
  char buffer[4096];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof(buffer))) > 0) reply.append(buffer, n);
  close(fd);
  return reply;
}

TEST(MetricsServerTest, ServesTheLatestSnapshot) {
  PublishLatestStats(Sample());
  absl::StatusOr<std::unique_ptr<MetricsServer>> server =
      MetricsServer::Start("127.0.0.1:0");
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_GT((*server)->port(), 0);
  std::string reply = Get((*server)->port(), "/metrics");
  EXPECT_THAT(reply, HasSubstr("200 OK"));
  EXPECT_THAT(reply, HasSubstr("\nsgate_policy_generation 3\n"));
  // A second sgate on the same port: the option and the reason.
  absl::StatusOr<std::unique_ptr<MetricsServer>> second =
      MetricsServer::Start(absl::StrCat("127.0.0.1:", (*server)->port()));
  ASSERT_FALSE(second.ok());
  EXPECT_THAT(second.status().message(),
              HasSubstr(absl::StrCat("--metrics 127.0.0.1:", (*server)->port(),
                                     ": cannot listen: Address already in use")));
}

TEST(MetricsServerTest, BadAddressesAreNamed) {
  for (const char* bad : {"9100", "localhost:9100", "127.0.0.1:http",
                          "127.0.0.1:70000", "[::1:9100"}) {
    absl::StatusOr<std::unique_ptr<MetricsServer>> server =
        MetricsServer::Start(bad);
    ASSERT_FALSE(server.ok()) << bad;
    EXPECT_THAT(server.status().message(),
                HasSubstr(absl::StrCat("--metrics ", bad, ": ")));
  }
}

}  // namespace
}  // namespace sgate::control
