// libFuzzer: the journal file (STATE_DIR/journal.json), which a crash, a disk error or a person
// may have left in any shape. What parses serialises and parses back to the same entries;
// channel counts read from it format back to the same text.
// fuzz-links: nettune
#include <cstdint>
#include <cstdlib>
#include <string>

#include "journal.h"

namespace {
void require(bool ok) {
  if (!ok) std::abort();
}
bool same(const gn::JournalEntry& a, const gn::JournalEntry& b) {
  return a.target == b.target && a.kind == b.kind && a.nic == b.nic && a.original == b.original;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gn;
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (auto entries = Journal::from_json(text)) {
    const auto back = Journal::from_json(Journal::to_json(*entries));
    require(back.ok() && back->size() == entries->size());
    for (size_t i = 0; i < entries->size(); ++i) {
      require(same((*entries)[i], (*back)[i]));
      if ((*entries)[i].kind == SettingKind::Channels) {
        Channels limits;
        if (auto c = parse_channels_journal_text((*entries)[i].original, limits))
          require(parse_channels_journal_text(channels_journal_text(*c), limits).ok());
      }
    }
  }
  Channels limits;
  if (auto c = parse_channels_journal_text(text, limits)) {
    const auto again = parse_channels_journal_text(channels_journal_text(*c), limits);
    require(again && channels_journal_text(*again) == channels_journal_text(*c));
  }
  return 0;
}
