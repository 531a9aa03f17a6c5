// A SAX handler that writes down every event it is handed, to compare two readers of the same
// JSON event for event (json_plain.h against nlohmann's parser).
#pragma once

#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
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

// Hands `text` over `block` bytes at a time (empty at its end), for the plain reader's block
// form. Each block is in a buffer of its own, the one before freed, as a file reader reuses its
// buffer: a reader that kept a pointer into an earlier block reads freed memory. Pass it as
// std::ref(blocks).
class FreshBlocks {
 public:
  FreshBlocks(std::string_view text, size_t block) : text_(text), block_(block) {}
  std::string_view operator()() {
    const std::string_view next = text_.substr(at_, block_);
    at_ += next.size();
    buffer_.reset(new char[next.size() + 1]);
    std::memcpy(buffer_.get(), next.data(), next.size());
    return {buffer_.get(), next.size()};
  }

 private:
  std::string_view text_;
  size_t block_, at_ = 0;
  std::unique_ptr<char[]> buffer_;
};

}  // namespace gn::test
