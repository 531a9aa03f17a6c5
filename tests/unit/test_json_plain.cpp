// The plain JSON reader (json_plain.h) answers only for plain JSON, and where it answers it hands
// over exactly nlohmann's events: every other input is left to nlohmann's parser.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "journal.h"
#include "journal_entry.h"
#include "json_plain.h"
#include "sax_record.h"

namespace gn::test {
namespace {

// Whether the plain reader answered; when it did, nlohmann's parser must accept the text too
// and hand over the same events. Handed over in blocks of any size (a file read a block at a
// time splits strings, numbers and keys anywhere), the plain reader answers the same.
bool answers_as_nlohmann_would(const std::string& text) {
  SaxRecord plain, reference;
  const bool plain_ok = sax_parse_plain(text, plain);
  const bool reference_ok = nlohmann::json::sax_parse(text, &reference);
  if (plain_ok) {
    EXPECT_TRUE(reference_ok) << "the plain reader took what is not JSON: " << text;
    EXPECT_EQ(plain.events, reference.events) << text;
  }
  for (const size_t block : {size_t{1}, size_t{2}, size_t{5}, size_t{64}}) {
    FreshBlocks feed(text, block);
    SaxRecord blocks;
    const bool blocks_ok = sax_parse_plain(std::ref(feed), blocks);
    EXPECT_EQ(blocks_ok, plain_ok) << "in blocks of " << block << ": " << text;
    if (blocks_ok && plain_ok) {
      EXPECT_EQ(blocks.events, plain.events) << "in blocks of " << block << ": " << text;
    }
  }
  return plain_ok;
}

TEST(PlainJson, ReadsTheAgentsOwnFilesAsNlohmannDoes) {
  const JournalEntry xps = journal_entry("sys/class/net/eth0/queues/tx-0/xps_cpus", SettingKind::Xps, "eth0", "00000000,00000003", 2);
  const JournalEntry sysctl = journal_entry("proc/sys/net/core/netdev_budget", SettingKind::Sysctl, "", "300", 0);
  JournalFile file;
  file.boot_id = "0f6c2b8e-1111-4222-8333-444455556666";
  file.entries = {xps, sysctl};
  for (const std::string& text : {
           Journal::to_json(file),
           Journal::to_json(std::vector<JournalEntry>{}),
           nlohmann::json::parse(Journal::to_json(file)).dump(),   // no white space at all
           nlohmann::json::parse(Journal::to_json(file)).dump(4),  // deeper indents
           std::string("\t\r\n {\"a\" :[ 0 ,1,\t999999999999999999 , [], {}, [[{}]], \"\", \"~\x7f\"] } \n"),
           std::string("0"), std::string("\"top\""), std::string("[]"), std::string("{}"),
           std::string(64, '[') + std::string(64, ']'),
           std::string("{\"k\": 1, \"k\": \"again\"}"),
       })
    EXPECT_TRUE(answers_as_nlohmann_would(text)) << "left to nlohmann: " << text;
}

TEST(PlainJson, LeavesAnythingElseToNlohmann) {
  // Valid JSON outside the plain shape, and text that is not JSON at all.
  for (const std::string& text : {
           std::string("\"a\\nb\""), std::string("\"\\u0041\""), std::string("\"caf\xc3\xa9\""), std::string("\"a\tb\""),
           std::string("\"\x01\""), std::string("-1"), std::string("-0"), std::string("1.5"), std::string("1e3"),
           std::string("2E1"), std::string("true"), std::string("false"), std::string("null"),
           std::string("1000000000000000000"), std::string("18446744073709551616"), std::string("01"), std::string("00"),
           std::string(65, '[') + std::string(65, ']'), std::string("\xef\xbb\xbf{}"), std::string(""), std::string(" "),
           std::string("{} x"), std::string("{}{}"), std::string("[1 2]"), std::string("[1,]"), std::string("[,1]"),
           std::string("{,}"), std::string("{\"a\"}"), std::string("{\"a\":1,}"), std::string("{\"a\" 1}"),
           std::string("{1:2}"), std::string("[\"open"), std::string("{\"a\":"), std::string("["), std::string("]"),
           std::string("[1}"), std::string("{\"a\":1]"), std::string("/* c */ {}"), std::string("{\"a\":1}\v"),
           std::string("12a"), std::string("[1-2]"), std::string("[0x10]"), std::string("{\"a\":1}\0", 8),
       })
    EXPECT_FALSE(answers_as_nlohmann_would(text)) << "answered: " << text;
}

TEST(PlainJson, AgreesWithNlohmannOnTheJournalFuzzCorpus) {
  size_t answered = 0, files = 0;
  for (const auto& e : std::filesystem::directory_iterator(GN_SOURCE_DIR "/tests/fuzz/corpus/journal")) {
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    ++files;
    if (answers_as_nlohmann_would(text.str())) ++answered;
    // Every prefix, too: a journal cut short by a crash or a full disk.
    const std::string whole = text.str();
    for (size_t cut = 0; cut < whole.size() && cut < 256; ++cut) answers_as_nlohmann_would(whole.substr(0, cut));
  }
  EXPECT_GT(files, 50u);
  EXPECT_GT(answered, 10u) << "the corpus has plain journals: the plain reader answers for them";
}

}  // namespace
}  // namespace gn::test
