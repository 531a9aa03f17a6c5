// libFuzzer: whatever bytes a guest agent sends, the reply reader, the JSON parser and the
// base64 decoder must neither crash nor overrun, and lines must come back as they went in.
// fuzz-links: gn_common nlohmann_json::nlohmann_json
// fuzz-sources: qga-bridge/base64.cpp qga-bridge/reply_reader.cpp
#include <nlohmann/json.hpp>

#include "base64.h"
#include "reply_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gn::qga;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  ReplyReader r;
  // Feed in pieces of varying size, as reads would deliver them.
  size_t pos = 0, step = 1;
  while (pos < in.size()) {
    const size_t n = std::min(step, in.size() - pos);
    r.feed(in.substr(pos, n));
    pos += n;
    step = step * 3 % 17 + 1;
    if (size && data[0] & 1) r.skip_past_sentinel();
    while (auto line = r.pop_line()) {
      if (line->find('\n') != std::string::npos) __builtin_trap();
      const auto j = nlohmann::json::parse(*line, nullptr, /*allow_exceptions=*/false);
      if (j.is_object() && j.contains("return") && j["return"].is_object() && j["return"].contains("out-data") &&
          j["return"]["out-data"].is_string()) {
        auto d = base64_decode(j["return"]["out-data"].get<std::string>());
        if (d && base64_encode(*d).size() % 4 != 0) __builtin_trap();
      }
    }
  }
  // Round trip: whatever decodes re-encodes to the same canonical text length.
  auto d = base64_decode(in);
  if (d) {
    auto back = base64_decode(base64_encode(*d));
    if (!back || *back != *d) __builtin_trap();
  }
  return 0;
}
