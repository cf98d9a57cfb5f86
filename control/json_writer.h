#pragma once

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/strings/string_view.h"

namespace sgate::control {

// A minimal streaming JSON writer for sgatectl's --json output and the
// control socket replies: it tracks commas and escapes strings, nothing more.
//   JsonWriter j; j.BeginObject(); j.Key("generation"); j.Number(3);
//   j.EndObject(); j.str() == R"({"generation":3})"
class JsonWriter {
 public:
  void BeginObject() { Open('{'); }
  void EndObject() { Close('}'); }
  void BeginArray() { Open('['); }
  void EndArray() { Close(']'); }
  void Key(absl::string_view key);
  void String(absl::string_view value);
  void Number(int64_t value);
  // Three decimals: enough for milliseconds and ratios.
  void Decimal(double value);
  void Bool(bool value);
  void Null();
  // Key and value in one call: j.Field("rx_packets", n).
  template <typename T>
    requires(std::is_integral_v<T> && !std::is_same_v<T, bool>)
  void Field(absl::string_view key, T value) {
    Key(key);
    Number(static_cast<int64_t>(value));
  }
  void Field(absl::string_view key, absl::string_view value) {
    Key(key);
    String(value);
  }
  void Field(absl::string_view key, const char* value) {
    Field(key, absl::string_view(value));
  }
  void Field(absl::string_view key, bool value) {
    Key(key);
    Bool(value);
  }
  void Field(absl::string_view key, double value) {
    Key(key);
    Decimal(value);
  }

  const std::string& str() const { return out_; }

 private:
  void Open(char bracket);
  void Close(char bracket);
  void BeforeValue();
  void AppendQuoted(absl::string_view s);

  std::string out_;
  // Per open container: whether it already holds an element.
  std::vector<bool> has_element_;
  bool after_key_ = false;
};

}  // namespace sgate::control
