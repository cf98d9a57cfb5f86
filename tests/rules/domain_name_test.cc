#include "rules/domain_name.h"

#include <gtest/gtest.h>

#include <string>

namespace sgate::rules {
namespace {

TEST(NormalizeDomainTest, LowercasesAndDropsTheTrailingDot) {
  EXPECT_EQ(*NormalizeDomain("API.GitHub.com."), "api.github.com");
  EXPECT_EQ(*NormalizeDomain("*.AmazonAWS.com"), "*.amazonaws.com");
  EXPECT_EQ(*NormalizeDomain("localhost"), "localhost");
  EXPECT_EQ(*NormalizeDomain("xn--bcher-kva.example"), "xn--bcher-kva.example");
  EXPECT_EQ(*NormalizeDomain("*.com"), "*.com");
  EXPECT_EQ(*NormalizeDomain("1.2.3.4.example"), "1.2.3.4.example");
  std::string label63(63, 'a');
  EXPECT_TRUE(NormalizeDomain(label63 + ".com").ok());
}

// Each invalid name and a part of the message that says why.
struct Invalid {
  const char* name;
  const char* why;
};

TEST(NormalizeDomainTest, RejectsWhatIsNotAHostName) {
  const Invalid kCases[] = {
      {"", "is empty"},
      {".", "is empty"},
      {"a..b.com", "empty label"},
      {".a.com", "empty label"},
      {"a.com..", "empty label"},
      {"a_b.com", "'_', outside the host name characters"},
      {"a b.com", "' ', outside the host name characters"},
      {"-a.com", "starts or ends with '-'"},
      {"a-.com", "starts or ends with '-'"},
      {"a.*.com", "'*' past the first label"},
      {"*a.com", "'*' inside a label"},
      {"a*.com", "'*' inside a label"},
      {"*", "needs a name after '*.'"},
      {"*.", "needs a name after '*.'"},
      {"*.*.com", "'*' past the first label"},
      {"bücher.de", "punycode"},
      {"198.51.100.7", "IPv4 address"},
  };
  for (const Invalid& c : kCases) {
    absl::StatusOr<std::string> n = NormalizeDomain(c.name);
    ASSERT_FALSE(n.ok()) << c.name;
    EXPECT_NE(n.status().message().find(c.why), std::string::npos)
        << c.name << ": " << n.status().message();
  }
  EXPECT_FALSE(NormalizeDomain(std::string(64, 'a') + ".com").ok());
  std::string long_name;
  while (long_name.size() < 254) long_name += "abcdefghi.";
  long_name += "com";
  EXPECT_FALSE(NormalizeDomain(long_name).ok());
}

TEST(IsHostNameTest, NamesSeenOnTheWire) {
  EXPECT_TRUE(IsHostName("api.github.com"));
  EXPECT_TRUE(IsHostName("_dmarc.example.com"));
  EXPECT_TRUE(IsHostName("a"));
  EXPECT_FALSE(IsHostName(""));
  EXPECT_FALSE(IsHostName(".example.com"));
  EXPECT_FALSE(IsHostName("example.com."));  // normalised names only
  EXPECT_FALSE(IsHostName("a..com"));
  EXPECT_FALSE(IsHostName("Example.com"));  // lowercased first
  EXPECT_FALSE(IsHostName(std::string("evil.com\0.example.com", 22)));
  EXPECT_FALSE(IsHostName("a b.com"));
  EXPECT_FALSE(IsHostName("[2001:db8::1]"));
  EXPECT_FALSE(IsHostName(std::string(64, 'a') + ".com"));
  EXPECT_TRUE(IsHostName(std::string(63, 'a') + ".com"));
}

TEST(NormalizeHostNameTest, LowercasesChecksAndDropsTheTrailingDot) {
  char out[kMaxHostNameLength];
  auto normalized = [&](const std::string& text) {
    size_t n = NormalizeHostName(text.data(), text.size(), out);
    return n == 0 ? std::string("(none)") : std::string(out, n);
  };
  EXPECT_EQ(normalized("API.GitHub.com"), "api.github.com");
  EXPECT_EQ(normalized("deb.debian.org."), "deb.debian.org");
  EXPECT_EQ(normalized("_Srv.Example"), "_srv.example");
  EXPECT_EQ(normalized("a..b"), "(none)");
  EXPECT_EQ(normalized("."), "(none)");
  EXPECT_EQ(normalized(""), "(none)");
  EXPECT_EQ(normalized("a.b.."), "(none)");
  EXPECT_EQ(normalized("b\xC3\xBC"
                       "cher.de"),
            "(none)");
  EXPECT_EQ(normalized(std::string("a\0b", 3)), "(none)");
  EXPECT_EQ(normalized(std::string(63, 'A') + ".com"),
            std::string(63, 'a') + ".com");
  EXPECT_EQ(normalized(std::string(64, 'a') + ".com"), "(none)");
  std::string longest;
  while (longest.size() < kMaxHostNameLength - 4) longest += "abc.";
  longest += "d";
  ASSERT_LE(longest.size(), kMaxHostNameLength);
  EXPECT_EQ(normalized(longest + "."), longest);
  EXPECT_EQ(normalized(longest + "ee"), "(none)");
}

TEST(DomainMatchesTest, ExactAndWildcard) {
  EXPECT_TRUE(DomainMatches("api.github.com", "api.github.com"));
  EXPECT_FALSE(DomainMatches("api.github.com", "x.api.github.com"));
  EXPECT_FALSE(DomainMatches("api.github.com", "github.com"));
  EXPECT_TRUE(DomainMatches("*.amazonaws.com", "s3.amazonaws.com"));
  EXPECT_TRUE(DomainMatches("*.amazonaws.com", "s3.us-east-1.amazonaws.com"));
  EXPECT_FALSE(DomainMatches("*.amazonaws.com", "amazonaws.com"));
  EXPECT_FALSE(DomainMatches("*.amazonaws.com", "evilamazonaws.com"));
  EXPECT_FALSE(DomainMatches("*.amazonaws.com", "amazonaws.com.evil.net"));
}

}  // namespace
}  // namespace sgate::rules
