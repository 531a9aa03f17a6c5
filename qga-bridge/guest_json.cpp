#include "guest_json.h"

namespace gn::qga {

namespace {

// A first pass over the text that builds nothing: it counts nesting and values and stops at the
// first limit crossed. (nlohmann's own parse callback cannot serve here: on every object's end it
// scans the enclosing container for discarded members, quadratic in an array of objects.)
class Bounds : public nlohmann::json_sax<nlohmann::json> {
 public:
  bool too_deep = false, too_many = false, malformed = false;

  bool null() override { return value(); }
  bool boolean(bool) override { return value(); }
  bool number_integer(number_integer_t) override { return value(); }
  bool number_unsigned(number_unsigned_t) override { return value(); }
  bool number_float(number_float_t, const string_t&) override { return value(); }
  bool string(string_t&) override { return value(); }
  bool binary(binary_t&) override { return value(); }
  bool start_object(std::size_t) override { return open(); }
  bool key(string_t&) override { return true; }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override { return open(); }
  bool end_array() override { return close(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    malformed = true;
    return false;
  }

 private:
  bool value() {
    too_many = ++values_ > kMaxJsonValues;
    return !too_many;
  }
  bool open() {
    too_deep = ++depth_ > kMaxJsonDepth;
    return !too_deep && value();
  }
  bool close() {
    --depth_;
    return true;
  }
  size_t values_ = 0;
  int depth_ = 0;
};

}  // namespace

Result<nlohmann::json> parse_guest_json(std::string_view text) {
  Bounds bounds;
  (void)nlohmann::json::sax_parse(text.begin(), text.end(), &bounds);
  if (bounds.too_deep) return make_error("", "nests deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  if (bounds.too_many) return make_error("", "holds more than " + std::to_string(kMaxJsonValues) + " values");
  if (bounds.malformed) return make_error("", "is not valid JSON");
  // Within bounds: now build it (the parser keeps its own stack on the heap).
  nlohmann::json j = nlohmann::json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return make_error("", "is not valid JSON");
  return j;
}

}  // namespace gn::qga
