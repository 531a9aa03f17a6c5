// libFuzzer: the journal file (STATE_DIR/journal.json, format 1 or 2), which a crash, a disk error
// or a person may have left in any shape. What parses writes back (as format 2) and parses to the
// same boot id and entries; loading the file from a state directory agrees with parsing it, and
// splits its entries into live and stale without losing one; channel counts read from an entry
// print in their one text form (catalogue.h), which parses back to the same counts. The plain
// JSON reader the journal tries first (json_plain.h), where it answers, hands over exactly the
// events nlohmann's parser does, whether it has the text whole or in blocks.
// fuzz-links: nettune
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>

#include "../support/sax_record.h"
#include "journal.h"
#include "json_plain.h"

namespace {
void require(bool ok) {
  if (!ok) std::abort();
}
bool same(const gn::JournalEntry& a, const gn::JournalEntry& b) {
  return a.path() == b.path() && gn::same_target(a, b) && a.kind == b.kind && a.nic == b.nic &&
         a.original == b.original && a.ifindex == b.ifindex;
}
// A state directory of this process's own, made once.
const std::string& state_dir() {
  static const std::string dir = [] {
    const char* tmp = std::getenv("TMPDIR");
    std::string d = std::string(tmp && *tmp ? tmp : "/tmp") + "/gn-fuzz-journal-XXXXXX";
    require(::mkdtemp(d.data()) != nullptr);
    return d;
  }();
  return dir;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gn;
  const std::string text(reinterpret_cast<const char*>(data), size);
  {
    gn::test::SaxRecord plain, reference;
    const bool plain_ok = sax_parse_plain(text, plain);
    if (plain_ok) require(nlohmann::json::sax_parse(text, &reference) && plain.events == reference.events);
    // Handed over in blocks (as load() reads the file), split where the input itself says.
    gn::test::FreshBlocks feed(text, size == 0 ? 1 : 1 + data[0] % 7);
    gn::test::SaxRecord blocks;
    require(sax_parse_plain(std::ref(feed), blocks) == plain_ok && (!plain_ok || blocks.events == plain.events));
  }
  const auto file = Journal::parse(text);
  if (file) {
    // Each entry's path is the input's target to the letter: revert writes the file named.
    const auto doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    require(doc.is_object() && doc["entries"].size() == file->entries.size());
    for (size_t i = 0; i < file->entries.size(); ++i) require(doc["entries"][i]["target"] == file->entries[i].path());
    const auto back = Journal::parse(Journal::to_json(*file));
    require(back.ok() && back->format == 2 && back->boot_id == file->boot_id);
    require(back->entries.size() == file->entries.size());
    for (size_t i = 0; i < file->entries.size(); ++i) {
      const JournalEntry& e = file->entries[i];
      require(same(e, back->entries[i]));
      // Its path names it again, exactly: what revert writes is the file the journal named.
      const auto named = JournalEntry::of(e.path(), e.kind, e.nic.str(), e.original, e.ifindex);
      require(named.ok() && same(e, *named));
      if (e.kind == SettingKind::Channels) {
        // Onto limits of both shapes: separate rx/tx (text "rx R tx T") and combined ("combined C").
        Channels combined_limits;
        combined_limits.max_combined = 65535;
        for (const Channels& limits : {Channels{}, combined_limits}) {
          const auto c = parse_value(ValueType::Channels, e.original, limits);
          require(c.ok());
          const auto again = parse_value(ValueType::Channels, c->text(), c->counts());
          require(again.ok() && again->counts() == c->counts());
        }
      }
    }
    require(Journal::from_json(text).ok());
  } else {
    require(!file.error().message.empty());
    require(!Journal::from_json(text).ok());
  }

  // The same bytes as the file in a state directory, judged against a boot and NIC identity
  // taken from the input itself, so that live and stale entries both occur.
  {
    std::ofstream out(state_dir() + "/journal.json", std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
  }
  JournalContext ctx;
  if (file) {
    ctx.boot_id = size % 2 ? file->boot_id : std::string("0b6a4f7e-3c1d-4a8e-9f21-5d7c2e8b1a90");
    for (const auto& e : file->entries)
      if (!e.nic.empty()) ctx.ifindex[e.nic.str()] = size % 3 ? e.ifindex : e.ifindex + 1;
  }
  const auto loaded = Journal::load(state_dir(), ctx);
  require(loaded.ok() == file.ok());
  if (loaded) {
    require(loaded->entries().size() + loaded->stale().size() == file->entries.size());
    for (const auto& s : loaded->stale()) require(!s.why.empty());
    for (const auto& e : loaded->entries()) require(loaded->has(e));
  } else {
    require(loaded.error().target.find("journal.json") != std::string::npos);
  }
  return 0;
}
