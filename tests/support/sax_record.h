// A SAX handler that writes down every event it is handed, to compare two readers of the same
// JSON event for event (json_plain.h against nlohmann's parser).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace gn::test {

class SaxRecord : public nlohmann::json_sax<nlohmann::json> {
 public:
  std::vector<std::string> events;

  bool null() override { return add("null"); }
  bool boolean(bool val) override { return add(val ? "true" : "false"); }
  bool number_integer(number_integer_t val) override { return add("int " + std::to_string(val)); }
  bool number_unsigned(number_unsigned_t val) override { return add("unsigned " + std::to_string(val)); }
  bool number_float(number_float_t /*val*/, const string_t& s) override { return add("float " + s); }
  bool string(string_t& val) override { return add("string " + val); }
  bool binary(binary_t& /*val*/) override { return add("binary"); }
  bool start_object(std::size_t elements) override { return add("{ " + std::to_string(elements)); }
  bool key(string_t& val) override { return add("key " + val); }
  bool end_object() override { return add("}"); }
  bool start_array(std::size_t elements) override { return add("[ " + std::to_string(elements)); }
  bool end_array() override { return add("]"); }
  bool parse_error(std::size_t /*position*/, const std::string& /*last_token*/,
                   const nlohmann::detail::exception& /*ex*/) override {
    return add("error");
  }

 private:
  bool add(std::string e) {
    events.push_back(std::move(e));
    return true;
  }
};

}  // namespace gn::test
