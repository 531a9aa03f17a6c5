// A reader of plain JSON, the shape the agent's own files have, that is several times cheaper
// than nlohmann's parser and hands a SAX handler exactly the events nlohmann's would, for the
// inputs it takes. It takes only a subset of JSON and answers "not mine" for the rest, so a
// caller always has nlohmann's parser behind it: that one alone decides what is not JSON, and
// files in any other shape (a person's edit, a hostile or corrupt file) are read by it as before.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string_view>

namespace gn {

// Hands `sax` the events of `text` as nlohmann::json::sax_parse(text, &sax) would, when `text` is
// plain JSON: objects, arrays, strings of printable ASCII (0x20-0x7f) without escapes, and whole
// numbers below 10^18 written with no sign, fraction, exponent or leading zero, at most 64
// levels deep, with space, tab, CR and LF between tokens. Returns false at the first byte
// outside that (valid JSON or not) or when a handler returns false; `sax` has then had a part
// of the events and the caller starts again with a fresh handler and nlohmann's parser.
bool sax_parse_plain(std::string_view text, nlohmann::json_sax<nlohmann::json>& sax);
// The same, with the text handed over a block at a time by `more` (empty at its end), so that a
// file is read without holding it whole. Blocks may split a token anywhere.
bool sax_parse_plain(const std::function<std::string_view()>& more, nlohmann::json_sax<nlohmann::json>& sax);

}  // namespace gn
