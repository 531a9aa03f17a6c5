// The neutraliser: every string from a guest goes through it before a terminal, a log line or a
// label sees it. Table tests for each kind of hostile byte, then properties over every byte
// value and random strings: nothing a terminal acts on survives, and the input can always be
// read back from the output (the escaping is unambiguous).
#include <gtest/gtest.h>

#include <random>

#include "guest_json.h"
#include "neutralise.h"
#include "terminal_hazard.h"

namespace gn::test {
namespace {

using gn::dump_for_people;
using gn::neutralise;
using nlohmann::json;

struct Case {
  const char* what;
  std::string in, out;
};

const std::vector<Case> kCases = {
    {"plain ASCII", "eth0 queues 4/8", "eth0 queues 4/8"},
    {"empty", "", ""},
    {"OSC retitles the terminal", "\x1b]0;owned\x07", "\\x1b]0;owned\\x07"},
    {"CSI clears the screen", "\x1b[2J\x1b[H", "\\x1b[2J\\x1b[H"},
    {"SGR colours", "\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"},
    {"8-bit CSI as a raw byte", "\x9b" "2J", "\\x9b2J"},
    {"8-bit CSI as UTF-8 (U+009B)", "\xc2\x9b" "2J", "\\u009b2J"},
    {"8-bit OSC as UTF-8 (U+009D)", "\xc2\x9d" "0;t\xc2\x9c", "\\u009d0;t\\u009c"},
    {"NEL (U+0085)", "a\xc2\x85" "b", "a\\u0085b"},
    {"C1 bounds U+0080, U+009F", "\xc2\x80\xc2\x9f", "\\u0080\\u009f"},
    {"U+00A0 is printable", "\xc2\xa0", "\xc2\xa0"},
    {"backslash", "a\\b", "a\\\\b"},
    {"a literal \\x1b is not an escape", "\\x1b", "\\\\x1b"},
    {"DEL", "a\x7f" "b", "a\\x7fb"},
    {"NUL", std::string("a\0b", 3), "a\\x00b"},
    {"tab, newline, carriage return", "\t\n\r", "\\x09\\x0a\\x0d"},
    {"backspace over text", "ok\b\b\bfail", "ok\\x08\\x08\\x08fail"},
    {"two-byte UTF-8", "caf\xc3\xa9", "caf\xc3\xa9"},
    {"three-byte UTF-8", "\xe6\x97\xa5\xe6\x9c\xac", "\xe6\x97\xa5\xe6\x9c\xac"},
    {"four-byte UTF-8", "\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80"},
    {"overlong '/'", "\xc0\xaf", "\\xc0\\xaf"},
    {"overlong three bytes", "\xe0\x80\xaf", "\\xe0\\x80\\xaf"},
    {"overlong four bytes", "\xf0\x80\x80\xaf", "\\xf0\\x80\\x80\\xaf"},
    {"UTF-16 surrogate", "\xed\xa0\x80", "\\xed\\xa0\\x80"},
    {"above U+10FFFF", "\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"},
    {"cut-short sequence", "\xe2\x82", "\\xe2\\x82"},
    {"cut-short sequence then ASCII", "\xe2\x82" "a", "\\xe2\\x82a"},
    {"lone continuation byte", "\x80", "\\x80"},
    {"bytes never in UTF-8", "\xfe\xff\xc1\xf5", "\\xfe\\xff\\xc1\\xf5"},
    {"right-to-left override", "abc\xe2\x80\xae" "cba", "abc\\u202ecba"},
    {"bidi isolate", "\xe2\x81\xa6x\xe2\x81\xa9", "\\u2066x\\u2069"},
    {"line separator", "a\xe2\x80\xa8" "b", "a\\u2028b"},
    {"byte order mark", "\xef\xbb\xbfx", "\\ufeffx"},
};

TEST(Neutralise, Table) {
  for (const auto& c : kCases) EXPECT_EQ(neutralise(c.in), c.out) << c.what;
}

TEST(Neutralise, CutShortSaysHowMuchWasLeftOut) {
  EXPECT_EQ(neutralise("abcdef", 6), "abcdef");
  EXPECT_EQ(neutralise("abcdef", 3), "abc...[3 more bytes]");
  // Never splits a character into escaped bytes: "a" + U+00E9 cut at 2 bytes keeps just "a".
  EXPECT_EQ(neutralise("a\xc3\xa9z", 2), "a...[3 more bytes]");
  EXPECT_EQ(neutralise("\x1b\x1b\x1b", 1), "\\x1b...[2 more bytes]");
}

// Reads the escapes back, to show that no two inputs give the same output.
std::string unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\') {
      out += s[i];
      continue;
    }
    const char kind = s.at(++i);
    if (kind == '\\') {
      out += '\\';
    } else if (kind == 'x') {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else if (kind == 'u') {
      const unsigned cp = static_cast<unsigned>(std::stoi(s.substr(i + 1, 4), nullptr, 16));
      i += 4;
      if (cp < 0x800) {
        out += static_cast<char>(0xc0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3f));
      } else {
        out += static_cast<char>(0xe0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (cp & 0x3f));
      }
    } else {
      ADD_FAILURE() << "unknown escape \\" << kind;
    }
  }
  return out;
}

TEST(Neutralise, EveryByteValueComesOutHarmlessAndReadsBack) {
  for (int b = 0; b < 256; ++b) {
    const std::string in(1, static_cast<char>(b));
    const std::string out = neutralise(in);
    EXPECT_EQ(first_hazard(out), "") << "byte " << b;
    EXPECT_EQ(unescape(out), in) << "byte " << b;
  }
}

TEST(Neutralise, RandomBytesComeOutHarmlessAndReadBack) {
  std::mt19937 rng(20261127);
  // Bias towards the interesting bytes: ESC, backslash, C1, lead and continuation bytes.
  static const char kPool[] = "\x1b\\\x9b\xc2\x80\x9f\xe2\x80\xae\xf0\x9f\xed\xa0\xff\x7f\x00[a";
  const std::string pool(kPool, sizeof kPool - 1);
  for (int trial = 0; trial < 20000; ++trial) {
    std::string in(rng() % 24, '\0');
    for (auto& c : in) c = rng() % 2 ? pool[rng() % pool.size()] : static_cast<char>(rng() % 256);
    const std::string out = neutralise(in);
    ASSERT_EQ(first_hazard(out), "") << testing::PrintToString(in);
    ASSERT_EQ(unescape(out), in) << testing::PrintToString(in);
  }
}

TEST(DumpForPeople, ControlAndNonAsciiCharactersBecomeUEscapes) {
  const json doc = {{"name", "\x1b]0;owned\x07"}, {"csi", "\xc2\x9b" "2J"}, {"del", "\x7f"}, {"nul", std::string("\0", 1)},
                    {"rlo", "\xe2\x80\xae"}};
  const std::string out = dump_for_people(doc);
  EXPECT_EQ(first_hazard(out, /*newlines_allowed=*/true), "") << out;
  for (const char* e : {"\\u001b]0;owned\\u0007", "\\u009b2J", "\\u007f", "\\u0000", "\\u202e"})
    EXPECT_NE(out.find(e), std::string::npos) << e << " in " << out;
  // Re-reading gives the same value: nothing was lost, only escaped.
  EXPECT_EQ(json::parse(out), doc);
}

TEST(DumpForPeople, InvalidUtf8IsReplacedNotThrown) {
  // The parser refuses invalid UTF-8, but a value built from the guest's raw bytes (its stderr)
  // can hold some: the default dump() would throw.
  const json doc = {{"stderr", std::string("bad \xff\x9b bytes")}};
  EXPECT_THROW((void)doc.dump(), json::type_error);
  std::string out;
  ASSERT_NO_THROW(out = dump_for_people(doc));
  EXPECT_EQ(first_hazard(out, /*newlines_allowed=*/true), "") << out;
  EXPECT_NE(out.find("bad \\ufffd\\ufffd bytes"), std::string::npos) << out;
}

TEST(GuestJson, NestingAndSizeAreBounded) {
  using gn::qga::kMaxJsonDepth;
  using gn::qga::parse_guest_json;
  const auto nested = [](size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); };
  EXPECT_TRUE(parse_guest_json(nested(kMaxJsonDepth)).ok());
  const auto deeper = parse_guest_json(nested(kMaxJsonDepth + 1));
  ASSERT_FALSE(deeper.ok());
  EXPECT_NE(deeper.error().message.find("deeper than 64"), std::string::npos) << deeper.error().message;
  // 100000 levels: neither the parse nor anything after it may recurse that deep.
  const auto deep = parse_guest_json("{\"return\": " + nested(100000) + "}");
  ASSERT_FALSE(deep.ok());
  std::string many = "[";
  for (size_t i = 0; i <= gn::qga::kMaxJsonValues; ++i) many += "0,";
  many.back() = ']';
  const auto too_many = parse_guest_json(many);
  ASSERT_FALSE(too_many.ok());
  EXPECT_NE(too_many.error().message.find("more than"), std::string::npos) << too_many.error().message;
  EXPECT_FALSE(parse_guest_json("{\"a\": ").ok());
  EXPECT_FALSE(parse_guest_json("\"\xff\"").ok()) << "invalid UTF-8 inside a JSON string is refused";
  EXPECT_EQ(*parse_guest_json(R"({"a": [1, {"b": "\u001b"}]})"), json::parse(R"({"a": [1, {"b": "\u001b"}]})"));
}

}  // namespace
}  // namespace gn::test
