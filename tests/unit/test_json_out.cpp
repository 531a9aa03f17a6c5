// The streaming JSON writer: every document it writes is byte for byte nlohmann's dump(2) of the
// same value (the layout the goldens, the status file and the host's parser have always seen),
// strings escape exactly as nlohmann escapes them, and a key out of order is refused.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <sstream>

#include "apply_render.h"
#include "fixture.h"
#include "journal.h"
#include "journal_entry.h"
#include "json_out.h"
#include "plan_helpers.h"
#include "plan_render.h"
#include "status.h"
#include "tempdir.h"

namespace gn::test {
namespace {

using nlohmann::json;

// A fixture's facts and plan under the default policy.
struct Planned {
  explicit Planned(const Fixture& f) {
    f.write(dir.path());
    facts = probe_snapshot(dir.path(), policy);
    plan = make_plan(facts, policy);
  }
  TempDir dir;
  Policy policy;
  Facts facts;
  Plan plan;
};

// The text must survive a parse and nlohmann's own dump(2) unchanged: same key order, indent,
// separators, escapes and number forms.
void expect_nlohmann_layout(const std::string& text, const std::string& what) {
  const json parsed = json::parse(text);
  EXPECT_EQ(parsed.dump(2), text) << what;
}

// Strings a tenant or a kernel could put anywhere in a document.
const std::vector<std::string> kAwkward = {
    "",           "plain",        "say \"x\"", "C:\\x", "tab\tnew\nline\rcr",
    "\b\f\x01\x1f", "esc \x1b[2J", "del \x7f",                   "UTF-8 \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
};

// The reviewed golden plans were written by nlohmann's dump(2); the writer reproduces them byte for
// byte (numbers, escapes and all), not only as equal values.
TEST(JsonOut, PlansAreTheGoldenFilesByteForByte) {
  size_t compared = 0;
  for (const auto& [name, f] : named_fixtures()) {
    const std::string file = std::string(GN_SOURCE_DIR) + "/tests/golden/" + name + ".json";
    if (!std::filesystem::exists(file)) continue;
    const Planned p(f);
    const Policy& policy = p.policy;
    const Facts& facts = p.facts;
    const Plan& plan = p.plan;
    EXPECT_EQ(json_text([&](JsonOut& j) { write_plan_json(j, facts, policy, plan); }) + "\n", read_text(file)) << name;
    ++compared;
  }
  EXPECT_GE(compared, 10u) << "the golden files were not found";
}

TEST(JsonOut, PlanAndStatusOfEveryFixtureAreNlohmannsLayout) {
  for (const auto& [name, f] : named_fixtures()) {
    const Planned p(f);
    const Policy& policy = p.policy;
    const Facts& facts = p.facts;
    const Plan& plan = p.plan;
    expect_nlohmann_layout(json_text([&](JsonOut& j) { write_plan_json(j, facts, policy, plan); }), name + " plan");
    std::vector<JournalEntry> held;  // every other setting
    for (size_t i = 0; i < plan.settings.size(); i += 2) {
      const Setting& s = plan.settings[i];
      held.emplace_back(s, SharedText());
    }
    const Status st{facts, policy, plan, std::nullopt, JournalTargets(held), std::nullopt};
    expect_nlohmann_layout(json_text([&](JsonOut& j) { write_status_json(j, st); }), name + " status");
  }
}

// Status asks the journal's targets of every drifted setting by its Target, where it once looked
// its path up: on every fixture's plan (shared IRQs, every sysctl, queue files of each kind) the
// answer is the path's, for a journal of every third setting.
TEST(JournalTargets, AnswerAsThePathsOfEveryFixturesPlanWould) {
  size_t asked = 0, yes = 0;
  for (const auto& [name, f] : named_fixtures()) {
    const Planned p(f);
    std::vector<JournalEntry> held;
    std::set<std::string> paths;
    for (size_t i = 0; i < p.plan.settings.size(); i += 3) {
      const Setting& s = p.plan.settings[i];
      // From its path, as the journal reads it back.
      held.push_back(journal_entry(s.path(), s.kind, s.nic.str(), {}));
      paths.insert(s.path());
    }
    const JournalTargets t(held);
    for (const auto& s : p.plan.settings) {
      const bool want = paths.count(s.path()) == 1;
      EXPECT_EQ(t.has(s), want) << name << ": " << s.path();
      ++asked;
      yes += want;
    }
  }
  EXPECT_GT(yes, 100u);
  EXPECT_GT(asked - yes, 200u);
}

TEST(JsonOut, StatusWithALoadSampleAndANestedLastApply) {
  const Planned p(named_fixtures().at("rhel8.0-9vcpu-4-queues"));
  const Policy& policy = p.policy;
  const Facts& facts = p.facts;
  const Plan& plan = p.plan;
  Status st{facts, policy, plan, std::nullopt, {}, std::nullopt};
  LoadSample l;
  l.seconds = 1.5;
  l.peak_pps = 250e3;
  // Queues 0, 2 and 10: as text keys they sort 0, 10, 2.
  l.nics.push_back({"eth0", 125e3, 125.25, {{0, 60e3}, {2, 0.1}, {10, 65e3}}, {}});
  l.cpus.push_back({0, 1, 2, 3});
  classify_load(l, Profile::Throughput);
  st.load = l;
  st.last_apply = json{{"command", "apply"},
                       {"result", "ok"},
                       {"summary", {{"writes", 3}, {"errors", 0}}},
                       {"writes", json::array({json{{"to", "0f"}, {"from", kAwkward[3]}}})},
                       {"unchanged", json::array()},
                       {"epoch", 1795654183}};
  const std::string text = json_text([&](JsonOut& j) { write_status_json(j, st); });
  expect_nlohmann_layout(text, "status with load and last_apply");
  EXPECT_NE(text.find("\"rx_queue_pps\": {\n"), std::string::npos) << text;
  // Numbers keep their type: a double with no fraction still reads as one.
  EXPECT_NE(text.find("\"peak_pps\": 250000.0,"), std::string::npos) << text;
  EXPECT_NE(text.find("\"10\": 65000.0"), std::string::npos) << text;
}

TEST(JsonOut, ApplyAndRevertWithAwkwardStringsAndEmptyLists) {
  ApplyReport a;
  RevertReport r;
  // Planned settings of awkward NICs holding awkward text: the writes point at them.
  std::vector<Setting> planned(kAwkward.size());
  for (size_t i = 0; i < kAwkward.size(); ++i) {
    const std::string& s = kAwkward[i];
    Setting& st = planned[i];
    static_cast<Target&>(st) = Target{SettingKind::Xps, s, 0, 0, nullptr};
    st.current = s;
    st.desired = Value::mask(ValueType::CpuMask, CpuSet::of({0, 1, 2, 3}), 8);
    st.action = Action::Write;
    a.writes.push_back({&st, i % 2 ? std::make_unique<const std::string>(s + "!") : nullptr});
    a.rolled_back.push_back({s, "sys/class/net/" + s, SettingKind::Xps, s, s});
    a.errors.push_back({s, "ethtool:" + s + ":channels", s, s});
    r.gone.push_back({s, "proc/irq/1/smp_affinity", s});
  }
  a.failed_nics = kAwkward;
  a.dry_run = true;
  expect_nlohmann_layout(json_text([&](JsonOut& j) { write_apply_json(j, a, Policy{}, "partial"); }), "apply");
  expect_nlohmann_layout(json_text([&](JsonOut& j) { write_apply_json(j, ApplyReport{}, Policy{}, "ok"); }),
                         "empty apply");
  expect_nlohmann_layout(json_text([&](JsonOut& j) { write_revert_json(j, r, "ok"); }), "revert");
}

TEST(JsonOut, TheJournalIsNlohmannsDumpWithIndentOne) {
  std::vector<JournalEntry> entries;
  // Made whole, not checked as load() checks them: the writer escapes any NIC name and original.
  for (const auto& s : kAwkward) entries.emplace_back(Target{SettingKind::RpsCpus, s, 0, 0, nullptr}, s, 7);
  entries.emplace_back(Target{SettingKind::Sysctl, "", -1, 0, find_sysctl_row("netdev_budget")}, "300");
  const std::string text = Journal::to_json("0b8d3a4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e", entries);
  EXPECT_EQ(json::parse(text).dump(1) + "\n", text);
  EXPECT_NE(text.find("\n  {\n   \"ifindex\": 7,\n   \"kind\": \"rps_cpus\",\n   \"nic\": \"plain\",\n   \"original\": \"plain\","),
            std::string::npos)
      << text;
  EXPECT_EQ(Journal::to_json(std::string(), {}), "{\n \"boot_id\": \"\",\n \"entries\": [],\n \"format\": 2\n}\n");
}

TEST(JsonOut, StringsEscapeAsNlohmannEscapesThem) {
  for (const auto& s : kAwkward) {
    const std::string text = json_text([&](JsonOut& j) { j.value(s); });
    EXPECT_EQ(text, json(s).dump()) << s;
  }
  // Not UTF-8: refused as nlohmann refuses it, not written.
  EXPECT_THROW(json_text([](JsonOut& j) { j.value(std::string("\x9b" "31m")); }), json::type_error);
}

// Strings are checked eight bytes at a time: every byte value, at every place in a word and in
// the tail after the last whole word, must come out as nlohmann writes it (or be refused as
// nlohmann refuses it).
TEST(JsonOut, EveryByteAtEveryPlaceEscapesAsNlohmannEscapesIt) {
  for (unsigned b = 0; b < 256; ++b)
    for (size_t at = 0; at < 19; ++at) {
      std::string s(19, 'a');
      s[at] = static_cast<char>(b);
      std::string want;
      try {
        want = json(s).dump();
      } catch (const json::type_error&) {
        EXPECT_THROW(json_text([&](JsonOut& j) { j.value(s); }), json::type_error) << b << " at " << at;
        continue;
      }
      EXPECT_EQ(json_text([&](JsonOut& j) { j.value(s); }), want) << b << " at " << at;
    }
}

TEST(JsonOut, AKeyOutOfOrderIsRefused) {
  EXPECT_THROW(json_text([](JsonOut& j) { j.begin_object().member("b", 1).member("a", 2); }), std::logic_error);
  EXPECT_THROW(json_text([](JsonOut& j) { j.begin_object().member("a", 1).member("a", 2); }), std::logic_error);
  EXPECT_THROW(json_text([](JsonOut& j) { j.begin_array().key("a"); }), std::logic_error);
  EXPECT_EQ(json_text([](JsonOut& j) { j.begin_object().member("a", 1).member("b", -2).end_object(); }),
            "{\n  \"a\": 1,\n  \"b\": -2\n}");
}

TEST(JsonOut, AStreamGetsTheSameTextInBlocks) {
  const Planned p(named_fixtures().at("cpus-288"));
  const Policy& policy = p.policy;
  const Facts& facts = p.facts;
  const Plan& plan = p.plan;
  const auto write = [&](JsonOut& j) { write_plan_json(j, facts, policy, plan); };
  const std::string text = json_text(write);
  ASSERT_GT(text.size(), size_t{1} << 16) << "the document should span several blocks";
  std::ostringstream out;
  print_json(out, write);
  EXPECT_EQ(out.str(), text + "\n");
}

// Keys and values longer than a block, and many small ones after them, come out whole and in
// order, into a string and onto a stream.
TEST(JsonOut, KeysAndValuesLongerThanABlockComeOutWhole) {
  json doc = json::object();
  doc[std::string(100000, 'k')] = std::string(200000, 'v');
  doc[std::string(70000, 'l') + "\n"] = json::array({std::string(65536, 'w'), "", 1});
  for (int i = 0; i < 5000; ++i) doc["m" + std::to_string(100000 + i)] = i;
  const auto write = [&](JsonOut& j) { j.value(doc); };
  // Strings go through value(string_view), as the renderers send them; the rest as values.
  const auto one = [](JsonOut& j, const json& v) {
    if (v.is_string()) j.value(std::string_view(v.get_ref<const std::string&>()));
    else j.value(v);
  };
  const auto stream = [&](JsonOut& j) {
    j.begin_object();
    for (const auto& [k, v] : doc.items()) {
      j.key(k);
      if (v.is_array()) {
        j.begin_array();
        for (const auto& e : v) one(j, e);
        j.end_array();
      } else {
        one(j, v);
      }
    }
    j.end_object();
  };
  EXPECT_EQ(json_text(write), doc.dump(2));
  EXPECT_EQ(json_text(stream), doc.dump(2));
  std::ostringstream out;
  print_json(out, stream);
  EXPECT_EQ(out.str(), doc.dump(2) + "\n");
}

// copy(): a document read from a stream is laid out as its parsed value would be, at any depth,
// whatever its whitespace; nothing is built.
TEST(JsonOut, CopyLaysOutAStreamedDocumentAsItsParsedValue) {
  json awkward = json::object();
  for (size_t i = 0; i < kAwkward.size(); ++i) awkward["s" + std::to_string(i)] = kAwkward[i];
  const Planned p(named_fixtures().at("cpus-288"));
  std::vector<json> docs = {
      json::parse(json_text([&](JsonOut& j) { write_plan_json(j, p.facts, p.policy, p.plan); })),
      awkward,
      json::parse(R"({"a": [], "b": {}, "c": [[], [{}], [1, -2, 3.25, -0.5, 1e300, 18446744073709551615,
                      -9223372036854775808]], "d": true, "e": false, "f": null, "g": {"h": {"i": [""]}}})"),
      json(7), json("top"), json::array(), json::object(), json(nullptr)};
  // Texts nlohmann did not write: number forms and escapes it writes otherwise, non-ASCII keys.
  const std::vector<std::string> foreign = {
      R"({"a": 1E2, "b": 1.50, "c": -0, "d": "\u0041\/\u00e9", "e": 18446744073709551616, "f": -1e-7,
          "z": [0.1, 100000000000000000000], "\u00e9": {"\u00e8": 1, "\u00e9": 2}})",
      "[1.0,\n\t2.5e+3 ,\r\n\"\\ud83d\\ude00\"]"};
  for (const auto& text : foreign) docs.push_back(json::parse(text));
  const auto check = [](const json& doc, const std::string& text) {
    // After a key, and as the second element of an array (the comma before it).
    const auto nested = [&](auto&& write) {
      return json_text([&](JsonOut& j) {
        j.begin_object().key("a").begin_array().begin_object().key("doc");
        write(j);
        j.end_object().value(1);
        write(j);
        j.end_array().end_object();
      });
    };
    EXPECT_EQ(nested([&](JsonOut& j) {
                std::istringstream in(text);
                EXPECT_TRUE(j.copy(in));
              }),
              nested([&](JsonOut& j) { j.value(doc); }))
        << text.substr(0, 200);
  };
  for (size_t i = 0; i < foreign.size(); ++i) check(docs[docs.size() - foreign.size() + i], foreign[i]);
  for (const auto& doc : docs) {
    for (const int indent : {-1, 0, 2, 4}) {  // one line, newlines only, the agent's own, wider
      const std::string text = doc.dump(indent);
      check(doc, text);
      std::istringstream top(text + "\n");
      std::string copied;
      {
        JsonOut j(copied);
        EXPECT_TRUE(j.copy(top));
      }
      EXPECT_EQ(copied, doc.dump(2)) << text.substr(0, 200);
    }
  }
}

// What copy() cannot lay out as nlohmann would (not one JSON document; keys out of order, which
// nlohmann would sort) is left to the caller: nothing written, the stream where it was.
TEST(JsonOut, CopyRefusesAnythingElseAndWritesNothing) {
  const std::vector<std::string> refused = {
      "",      " ",       "{",          "[1,]",          "[1] x",        "[1][2]",           "{\"b\": 1, \"a\": 2}",
      "{\"a\": 1, \"a\": 2}", "{\"x\": [{\"z\": 1, \"y\": 2}]}", "\"\\x\"", "\"\x9b\"", "nul", "01",
      "{\"a\": 1,}", "\"tab\there\"", "{\"\xc3\xa9\": 1, \"z\": 2}", "{\"\\u00e9\": 1, \"z\": 2}"};
  for (const auto& text : refused) {
    std::istringstream in("ignored" + text);
    in.seekg(7);
    bool copied = true;
    const std::string out = json_text([&](JsonOut& j) {
      j.begin_object().key("k");
      copied = j.copy(in);
      if (!copied) j.null();
      j.end_object();
    });
    EXPECT_FALSE(copied) << text;
    EXPECT_EQ(out, "{\n  \"k\": null\n}") << text;
    EXPECT_TRUE(in.good()) << text;
    EXPECT_EQ(in.tellg(), std::streampos(7)) << text;
  }
}

// A stream that cannot go back to read the document again is refused before anything is read.
TEST(JsonOut, CopyRefusesAStreamItCannotRewind) {
  struct NoSeek : std::streambuf {
    explicit NoSeek(std::string t) : text(std::move(t)) { setg(text.data(), text.data(), text.data() + text.size()); }
    std::string text;  // seekoff and seekpos fail, as std::streambuf's do
  } buf("{\"a\": 1}");
  std::istream in(&buf);
  const std::string out = json_text([&](JsonOut& j) { EXPECT_FALSE(j.copy(in)); });
  EXPECT_EQ(out, "");
  EXPECT_EQ(in.get(), '{');  // nothing was read
}

// A document rewritten in place between the check and the copy stops the copy loudly.
TEST(JsonOut, CopyOfADocumentThatChangesWhileReadThrows) {
  // The first reading sees a valid document; every reading after a rewind sees the second text.
  struct Changing : std::streambuf {
    Changing(std::string a, std::string b) : first(std::move(a)), then(std::move(b)) { show(first); }
    void show(std::string& t) { setg(t.data(), t.data(), t.data() + t.size()); }
    pos_type seekoff(off_type off, std::ios_base::seekdir dir, std::ios_base::openmode) override {
      if (off == 0 && dir == std::ios_base::cur) return gptr() - eback();
      return pos_type(off_type(-1));
    }
    pos_type seekpos(pos_type pos, std::ios_base::openmode) override {
      if (pos != pos_type(0)) return pos_type(off_type(-1));
      show(then);
      return pos;
    }
    std::string first, then;
  };
  for (const std::string& then : {std::string("{\"a\": [1, "), std::string("{\"b\": 1, \"a\": 2}")}) {
    Changing buf("{\"a\": [1, 2]}", then);
    std::istream in(&buf);
    EXPECT_ANY_THROW(json_text([&](JsonOut& j) { j.copy(in); })) << then;
  }
}

}  // namespace
}  // namespace gn::test
