// Parsing JSON that came from a guest: bounded in nesting and in the number of values, so that a
// hostile reply can neither overflow the stack (copying, comparing and printing a nlohmann value
// recurse once per level) nor build a document far larger than its text.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "result.h"

namespace gn::qga {

// Deeper than anything qemu-ga or guest-nettune sends (the status nests 5 levels).
inline constexpr int kMaxJsonDepth = 64;
// About 16 bytes of text per value in the densest real status: 16 MiB of output is ~1M values.
inline constexpr size_t kMaxJsonValues = size_t{1} << 20;

// The parsed value, or what is wrong with the text (not JSON, too deep, too many values). The
// error's message quotes nothing from the text.
Result<nlohmann::json> parse_guest_json(std::string_view text);

}  // namespace gn::qga
