#include "rules/ip_address.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sgate::rules {
namespace {

using ::testing::HasSubstr;

TEST(IpAddressTest, ParsesBothFamilies) {
  absl::StatusOr<IpAddress> v4 = ParseIpAddress("198.51.100.10");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->family, Family::kIPv4);
  EXPECT_EQ(v4->v4(), 0xC633640Au);
  EXPECT_EQ(v4->ToString(), "198.51.100.10");

  absl::StatusOr<IpAddress> v6 = ParseIpAddress("2001:DB8:0::10");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->family, Family::kIPv6);
  EXPECT_EQ(v6->ToString(), "2001:db8::10");
}

TEST(IpAddressTest, RejectsGarbage) {
  for (const char* text : {"", "198.51.100", "198.51.100.256", "2001:db8:::1",
                           "host.example", "198.51.100.1/32"}) {
    EXPECT_FALSE(ParseIpAddress(text).ok()) << text;
  }
}

TEST(CidrTest, ContainsAtPrefixEdges) {
  Cidr net = *ParseCidr("198.51.100.0/24");
  EXPECT_TRUE(net.Contains(*ParseIpAddress("198.51.100.0")));
  EXPECT_TRUE(net.Contains(*ParseIpAddress("198.51.100.255")));
  EXPECT_FALSE(net.Contains(*ParseIpAddress("198.51.101.0")));
  EXPECT_FALSE(net.Contains(*ParseIpAddress("198.51.99.255")));
  // Another family never matches, even for /0.
  EXPECT_FALSE(ParseCidr("0.0.0.0/0")->Contains(*ParseIpAddress("::1")));
  EXPECT_TRUE(ParseCidr("::/0")->Contains(*ParseIpAddress("2001:db8::1")));
  EXPECT_TRUE(ParseCidr("2001:db8::1/128")
                  ->Contains(*ParseIpAddress("2001:db8::1")));
  EXPECT_FALSE(ParseCidr("2001:db8::1/128")
                   ->Contains(*ParseIpAddress("2001:db8::2")));
}

TEST(CidrTest, HostBitsNameTheCanonicalForm) {
  absl::StatusOr<Cidr> bad = ParseCidr("198.51.100.7/24");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("198.51.100.0/24"));
  bad = ParseCidr("2001:db8::1/64");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("2001:db8::/64"));
}

TEST(CidrTest, RejectsBadLengths) {
  for (const char* text : {"198.51.100.0/33", "2001:db8::/129",
                           "198.51.100.0/", "198.51.100.0/-1",
                           "198.51.100.0/ 24", "198.51.100.0", "x/8"}) {
    EXPECT_FALSE(ParseCidr(text).ok()) << text;
  }
}

}  // namespace
}  // namespace sgate::rules
