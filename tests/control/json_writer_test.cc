#include "control/json_writer.h"

#include <gtest/gtest.h>

namespace sgate::control {
namespace {

TEST(JsonWriterTest, NestsAndSeparates) {
  JsonWriter j;
  j.BeginObject();
  j.Key("generation");
  j.Number(3);
  j.Key("ports");
  j.BeginArray();
  for (int port : {0, 1}) {
    j.BeginObject();
    j.Key("port");
    j.Number(port);
    j.Key("up");
    j.Bool(port == 0);
    j.EndObject();
  }
  j.EndArray();
  j.Key("none");
  j.Null();
  j.Key("empty");
  j.BeginObject();
  j.EndObject();
  j.EndObject();
  EXPECT_EQ(j.str(),
            R"({"generation":3,"ports":[{"port":0,"up":true},)"
            R"({"port":1,"up":false}],"none":null,"empty":{}})");
}

TEST(JsonWriterTest, EscapesStrings) {
  JsonWriter j;
  j.BeginArray();
  j.String("say \"hi\"\\\n\t\x01");
  j.Number(-5);
  j.EndArray();
  EXPECT_EQ(j.str(), R"(["say \"hi\"\\\n\t\u0001",-5])");
}

}  // namespace
}  // namespace sgate::control
