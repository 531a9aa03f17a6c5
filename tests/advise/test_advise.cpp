// advise: the XML and topology parsers on inline and hostile text, one domain definition per
// finding (tests/advise/domains, each saying what it expects), host snapshot trees (1 and 2
// NUMA nodes, SMT on and off, AMD and Intel), the guide's example domain against a golden
// report, the guest's view as hostile input, exit codes and renderers.
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "advise.h"
#include "advise_cli.h"
#include "domain.h"
#include "host_facts.h"
#include "host_tree.h"
#include "render.h"
#include "rules.h"
#include "tempdir.h"
#include "text.h"
#include "topology.h"
#include "xml.h"

namespace gn::test {
namespace {

using namespace gn::advise;
namespace fs = std::filesystem;

const std::string kDomains = std::string(GN_SOURCE_DIR) + "/tests/advise/domains";
const std::string kGolden = std::string(GN_SOURCE_DIR) + "/tests/golden/advise";

std::string file_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Domains from files; libvirt's other answers as a host without networks would give them.
class FileSource : public DomainSource {
 public:
  std::map<std::string, std::string> xml;  // name → document
  std::string uri() const override { return "qemu:///system"; }
  Result<std::vector<std::string>> domain_names() override {
    std::vector<std::string> out;
    for (const auto& [n, x] : xml) out.push_back(n);
    return out;
  }
  Result<std::string> domain_xml(const std::string& name) override {
    const auto it = xml.find(name);
    if (it == xml.end()) return make_error("domain " + name, "not found", {}, ENOENT);
    return it->second;
  }
  Result<std::string> network_bridge(const std::string& network) override {
    return make_error("network " + network, "not found");
  }
  Result<std::string> capabilities() override { return make_error("libvirt", "no capabilities here"); }
  std::optional<unsigned long> hypervisor_version() override { return 7002000; }
  Result<std::unique_ptr<qga::AgentChannel>> agent(const std::string& name) override {
    return make_error("domain " + name, "not running");
  }
};

struct AdviseRun {
  int code = -1;
  nlohmann::json doc;
  std::string text, err;
};

// A named host tree, written once per test program.
const TempDir& tree_dir(const std::string& name) {
  static std::map<std::string, std::unique_ptr<TempDir>> dirs;
  auto& d = dirs[name];
  if (!d) {
    d = std::make_unique<TempDir>();
    write_host_tree(named_host_trees().at(name), d->path());
  }
  return *d;
}

AdviseRun advise_run(const std::string& tree, FileSource* source, std::vector<std::string> domains, bool host,
                     bool all = false) {
  const TempDir& dir = tree_dir(tree);
  AdviseOptions o;
  o.root = dir.path();
  o.domains = std::move(domains);
  o.host = host;
  o.all = all;
  const SysRoot root(dir.path());
  SnapshotHostNic nics(root);
  AdviseRun r;
  std::ostringstream out, err, text, err2;
  o.json = true;
  r.code = run_advise(o, source, nics, out, err);
  r.doc = nlohmann::json::parse(out.str());
  r.err = err.str();
  o.json = false;
  const int again = run_advise(o, source, nics, text, err2);
  EXPECT_EQ(again, r.code) << "the table and JSON runs disagree";
  r.text = text.str();
  return r;
}

std::multiset<std::string> ids(const nlohmann::json& doc, const std::string& scope_prefix = "") {
  std::multiset<std::string> out;
  for (const auto& f : doc["findings"])
    if (f["scope"].get<std::string>().rfind(scope_prefix, 0) == 0) out.insert(f["id"].get<std::string>());
  return out;
}

std::string joined(const std::multiset<std::string>& s) {
  std::string out;
  for (const auto& i : s) out += (out.empty() ? "" : " ") + i;
  return out;
}

// --- parsers ------------------------------------------------------------------------------------

TEST(AdviseCpuset, LibvirtSyntax) {
  const std::vector<std::pair<std::string, std::string>> good = {
      {"1", "1"}, {"1-4", "1-4"}, {"1-4,^3,8", "1-2,4,8"}, {" 0-1 , 5 ", "0-1,5"}, {"11-19", "11-19"}};
  for (const auto& [in, want] : good) {
    auto s = parse_libvirt_cpuset(in);
    ASSERT_TRUE(s.ok()) << in << ": " << s.error().text();
    EXPECT_EQ(format_cpulist(*s), want) << in;
  }
  for (const char* bad : {"", ",", "1,", "a", "4-1", "^3", "1-^3", "0-99999999", "1-3,^1-2", "16384", "-1", "1--2"})
    EXPECT_FALSE(parse_libvirt_cpuset(bad).ok()) << "'" << bad << "' accepted";
}

TEST(AdviseXml, TheGuideExampleParses) {
  auto d = parse_domain_xml(file_text(kDomains + "/guide-example.xml"), "guide-example");
  ASSERT_TRUE(d.ok()) << d.error().text();
  EXPECT_EQ(d->name, "guide-example");
  EXPECT_EQ(d->vcpus, 9u);
  ASSERT_EQ(d->vcpupin.size(), 9u);
  EXPECT_EQ(format_cpulist(d->vcpupin.at(0)), "1");
  EXPECT_EQ(format_cpulist(d->vcpupin.at(8)), "9");
  ASSERT_TRUE(d->emulatorpin);
  EXPECT_EQ(format_cpulist(*d->emulatorpin), "11-19");
  ASSERT_EQ(d->memnodes.size(), 1u);
  EXPECT_EQ(d->memnodes[0].mode, "strict");
  EXPECT_EQ(d->cpu_mode, "host-passthrough");
  EXPECT_TRUE(d->cpu_cache_passthrough);
  EXPECT_TRUE(d->hugepages);
  ASSERT_EQ(d->interfaces.size(), 3u);
  EXPECT_EQ(d->interfaces[0].bridge, "br0");
  EXPECT_EQ(d->interfaces[0].queues, 9u);
  EXPECT_EQ(d->interfaces[0].rx_queue_size, 256u);
  EXPECT_EQ(d->interfaces[0].coalesce_rx_frames, 32u);
  EXPECT_EQ(d->interfaces[2].queues, std::nullopt);
  EXPECT_EQ(d->interfaces[2].bridge, "br-mgmt");
}

TEST(AdviseXml, HostileDocumentsAreRefusedWithTheReason) {
  const std::string deep = std::string(200, '<').replace(0, 200, "") + [] {
    std::string s = "<domain>";
    for (int i = 0; i < 100; ++i) s += "<a>";
    for (int i = 0; i < 100; ++i) s += "</a>";
    return s + "</domain>";
  }();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "not a libvirt domain"},
      {"<domain>", "malformed"},
      {"<domain><name>x</name>", "malformed"},
      {"<network/>", "not a libvirt domain"},
      {"<!DOCTYPE d [<!ENTITY a 'aaaa'>]><domain>&a;</domain>", "DOCTYPE"},
      {deep, "nested deeper"},
      {std::string(kXmlMaxBytes + 1, ' '), "over the"},
      {"<domain><vcpu>0</vcpu></domain>", "<vcpu>"},
      {"<domain><vcpu>99999</vcpu></domain>", "<vcpu>"},
      {"<domain><vcpu>two</vcpu></domain>", "<vcpu>"},
      {"<domain><vcpu>2</vcpu><cputune><vcpupin vcpu='5' cpuset='1'/></cputune></domain>", "does not have"},
      {"<domain><vcpu>2</vcpu><cputune><vcpupin vcpu='0' cpuset='1'/><vcpupin vcpu='0' cpuset='2'/></cputune></domain>",
       "pinned twice"},
      {"<domain><vcpu>2</vcpu><cputune><vcpupin vcpu='0' cpuset='x'/></cputune></domain>", "cpuset"},
      {"<domain><vcpu>2</vcpu><cputune><emulatorpin cpuset='99999999'/></cputune></domain>", "cpuset"},
      {"<domain><devices><interface type='bridge'><driver queues='-1'/></interface></devices></domain>", "queues"},
      {"<domain><devices><interface type='bridge'><driver queues='99999999999'/></interface></devices></domain>", "queues"},
      {"<domain><numatune><memory mode='strict' nodeset='0-'/></numatune></domain>", "<numatune><memory>"},
  };
  for (const auto& [text, want] : cases) {
    auto d = parse_domain_xml(text, "domain t");
    ASSERT_FALSE(d.ok()) << "accepted: " << text.substr(0, 80);
    EXPECT_NE(d.error().text().find(want), std::string::npos) << d.error().text();
  }
}

TEST(AdviseXml, NamesThatCannotBeInterfacesNeverReachSys) {
  auto d = parse_domain_xml(
      "<domain><devices><interface type='bridge'><source bridge='../../etc'/><model type='virtio'/></interface>"
      "<interface type='bridge'><source bridge='br0&#10;x'/></interface>"
      "<interface type='bridge'><mac address='52:54:00:zz:00:01'/><source bridge='averyveryverylongname'/></interface>"
      "</devices></domain>",
      "domain t");
  ASSERT_TRUE(d.ok()) << d.error().text();
  for (const auto& i : d->interfaces) EXPECT_EQ(i.bridge, "") << i.source;
  EXPECT_EQ(d->interfaces[2].mac, "");
  EXPECT_EQ(d->interfaces[2].label(), "interface #2");
  for (const char* bad : {"", ".", "..", "a/b", "sixteen-chars-xx", "a b", "a:b", "\x1b[31m"}) EXPECT_FALSE(valid_ifname(bad)) << bad;
  EXPECT_TRUE(valid_ifname("br-mgmt"));
}

// --- topology -----------------------------------------------------------------------------------

std::string guide_capabilities() {
  std::string s = "<capabilities><host><topology><cells num='2'>";
  for (unsigned node = 0; node < 2; ++node) {
    s += "<cell id='" + std::to_string(node) + "'><cpus num='20'>";
    for (unsigned t : {0u, 20u})
      for (unsigned c = 0; c < 10; ++c) {
        const unsigned id = t + node * 10 + c;
        const unsigned first = node * 10 + c;
        s += "<cpu id='" + std::to_string(id) + "' socket_id='" + std::to_string(node) + "' die_id='0' core_id='" +
             std::to_string(c) + "' siblings='" + std::to_string(first) + "," + std::to_string(first + 20) + "'/>";
      }
    s += "</cpus></cell>";
  }
  return s + "</cells></topology></host></capabilities>";
}

TEST(AdviseTopology, CapabilitiesAndSysAgree) {
  auto caps = parse_capabilities(guide_capabilities());
  ASSERT_TRUE(caps.ok()) << caps.error().text();
  const TempDir& dir = tree_dir("guide-2x10-smt");
  auto sys = read_topology(SysRoot(dir.path()));
  ASSERT_TRUE(sys.ok()) << sys.error().text();
  for (const auto* t : {&*caps, &*sys}) {
    EXPECT_EQ(t->cpus.size(), 40u);
    ASSERT_EQ(t->nodes.size(), 2u);
    EXPECT_EQ(format_cpulist(t->nodes.at(0)), "0-9,20-29");
    EXPECT_EQ(format_cpulist(t->cpu(3)->siblings), "3,23");
    EXPECT_EQ(t->cpu(23)->node, 0u);
    EXPECT_EQ(t->cores_in(CpuSet::of({1, 21, 2})), 2u);
    EXPECT_TRUE(t->smt());
    EXPECT_EQ(t->sockets(), 2u);
  }
  EXPECT_FALSE(parse_capabilities("<capabilities><host/></capabilities>").ok());
  EXPECT_FALSE(parse_capabilities("<capabilities><host><topology><cells><cell id='x'/></cells></topology></host></capabilities>").ok());
}

TEST(AdvisePlacement, TheGuidesOwnChoice) {
  const TempDir& dir = tree_dir("guide-2x10-smt");
  auto t = read_topology(SysRoot(dir.path()));
  ASSERT_TRUE(t.ok());
  // 9 vCPUs on node 0: pCPUs 1-9 (pCPU 0 left to the host), emulator on node 1's 11-19.
  const auto p = propose_placement(*t, 9, 0);
  EXPECT_EQ(p.vcpu_cpus, (std::vector<unsigned>{1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_EQ(format_cpulist(p.emulator), "11-19");
  EXPECT_EQ(p.fits, 9u);
  // 4 vCPUs leave cores on their node: the emulator stays there.
  const auto small = propose_placement(*t, 4, 1);
  EXPECT_EQ(small.vcpu_cpus, (std::vector<unsigned>{11, 12, 13, 14}));
  EXPECT_EQ(format_cpulist(small.emulator), "15-19");
  // 12 vCPUs do not fit a 10-core node with one core for the host.
  const auto big = propose_placement(*t, 12, 0);
  EXPECT_EQ(big.fits, 9u);
  EXPECT_NE(big.note.find("not 12"), std::string::npos) << big.note;
}

// --- one defined domain per finding -------------------------------------------------------------

TEST(AdviseDomains, EachCaseFindsWhatItSays) {
  FileSource src;
  std::map<std::string, std::string> expect;
  for (const auto& e : fs::directory_iterator(kDomains)) {
    const std::string name = e.path().stem();
    if (name == "guide-example") continue;
    const std::string text = file_text(e.path());
    const auto a = text.find("<!-- expect:"), b = text.find("-->", a);
    ASSERT_NE(a, std::string::npos) << name << " has no expect line";
    expect["gn-" + name] = std::string(trim(text.substr(a + 12, b - a - 12)));
    src.xml["gn-" + name] = text;
  }
  ASSERT_GE(expect.size(), 20u);
  for (const auto& [name, want] : expect) {
    const AdviseRun r = advise_run("guide-2x10-smt", &src, {name}, /*host=*/false);
    EXPECT_EQ(joined(ids(r.doc)), want) << name << ":\n" << r.text;
    const bool recommended = r.doc["summary"]["recommended"].get<int>() > 0;
    EXPECT_EQ(r.code, recommended ? 6 : 0) << name;
  }
}

TEST(AdviseDomains, FindingsCarryTheExactChange) {
  FileSource src;
  for (const char* n : {"vcpu-pinning", "numatune", "nic-queues", "emulatorpin"})
    src.xml[std::string("gn-") + n] = file_text(kDomains + "/" + n + ".xml");
  const AdviseRun r = advise_run("guide-2x10-smt", &src, {"gn-vcpu-pinning", "gn-numatune", "gn-nic-queues", "gn-emulatorpin"}, false);
  std::map<std::string, nlohmann::json> by_id;
  for (const auto& f : r.doc["findings"]) by_id[f["id"].get<std::string>()] = f;
  const auto first_change = [&](const char* id) { return by_id.at(id)["changes"][0]["text"].get<std::string>(); };
  EXPECT_NE(first_change("vcpu-pinning").find("<vcpupin vcpu='0' cpuset='1'/>"), std::string::npos);
  EXPECT_NE(first_change("vcpu-pinning").find("<vcpupin vcpu='8' cpuset='9'/>"), std::string::npos);
  EXPECT_NE(first_change("vcpu-pinning").find("<emulatorpin cpuset='11-19'/>"), std::string::npos);
  EXPECT_EQ(first_change("numatune"), "<numatune>\n  <memory mode='strict' nodeset='0'/>\n</numatune>");
  EXPECT_EQ(first_change("nic-queues"), "<driver name='vhost' queues='9' rx_queue_size='256' tx_queue_size='256'/>");
  EXPECT_EQ(by_id.at("nic-queues")["subject"], "interface 52:54:00:00:00:02 (bridge br0)");
  EXPECT_EQ(by_id.at("emulatorpin")["changes"][1]["text"],
            "virsh -c qemu:///system emulatorpin gn-emulatorpin 11-19 --config --live");
  for (const auto& f : r.doc["findings"]) {
    EXPECT_FALSE(f["why"].get<std::string>().empty()) << f["id"];
    EXPECT_EQ(f["why"].get<std::string>().find('\n'), std::string::npos) << "why is one line: " << f["id"];
    EXPECT_FALSE(f["changes"].empty()) << f["id"];
  }
}

TEST(AdviseDomains, EveryChangeFragmentIsWellFormedXml) {
  FileSource src;
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(kDomains)) {
    const std::string name = "gn-" + e.path().stem().string();
    src.xml[name] = file_text(e.path());
    names.push_back(name);
  }
  const AdviseRun r = advise_run("guide-2x10-smt", &src, names, false);
  unsigned fragments = 0;
  for (const auto& f : r.doc["findings"])
    for (const auto& c : f["changes"])
      if (c["kind"] == "domain-xml") {
        ++fragments;
        EXPECT_TRUE(parse_xml("<x>" + c["text"].get<std::string>() + "</x>", "fragment").ok()) << c["text"];
      }
  EXPECT_GE(fragments, 15u);
}

TEST(AdviseDomains, TheGuestsViewAddsItsFindings) {
  auto spec = parse_domain_xml(file_text(kDomains + "/tuned.xml"), "t");
  ASSERT_TRUE(spec.ok());
  const TempDir& dir = tree_dir("guide-2x10-smt");
  auto topo = read_topology(SysRoot(dir.path()));
  ASSERT_TRUE(topo.ok());
  DomainContext ctx;
  ctx.spec = *spec;
  ctx.uplinks[0] = {{"eno1", 0}};
  GuestView g;
  g.nics = {{"eth0", "52:54:00:00:00:01", 1, 9}, {"eth1", "52:54:00:00:00:02", 4, 4}};
  ctx.guest = g;
  std::multiset<std::string> got;
  for (const auto& f : domain_findings(ctx, *topo)) got.insert(f.id);
  EXPECT_EQ(joined(got), "nic-guest-channels nic-restart-pending");
}

// --- the guest's view is hostile input ----------------------------------------------------------

TEST(AdviseGuest, ValidatesWhatTheGuestSays) {
  const auto status = [](nlohmann::json nics) {
    return nlohmann::json{{"schema_version", 1}, {"cpus", {{"online", "0-8"}}}, {"nics", nics}};
  };
  const nlohmann::json ifs = nlohmann::json::array(
      {{{"name", "eth0"}, {"hardware-address", "52:54:00:00:00:01"}}, {{"name", "eth1\x1b"}, {"hardware-address", "x"}}});
  auto ok = guest_view_from(
      status({{{"name", "eth0"}, {"role", "tunable"}, {"queues_current", 1}, {"queues_max", 9}},
              {{"name", "bond0"}, {"role", "upper"}, {"queues_current", 0}, {"queues_max", 0}}}),
      ifs);
  ASSERT_TRUE(ok.ok()) << ok.error().text();
  EXPECT_EQ(ok->cpus_online, 9u);
  ASSERT_EQ(ok->nics.size(), 1u);
  EXPECT_EQ(ok->nics[0].mac, "52:54:00:00:00:01");
  const std::vector<nlohmann::json> bad = {
      nlohmann::json::array(),
      nlohmann::json{{"schema_version", 2}, {"nics", nlohmann::json::array()}},
      status("eth0"),
      status({{{"name", "../../x"}, {"role", "tunable"}, {"queues_current", 1}, {"queues_max", 1}}}),
      status({{{"name", "eth0"}, {"role", "tunable"}, {"queues_current", 5}, {"queues_max", 4}}}),
      status({{{"name", "eth0"}, {"role", "tunable"}, {"queues_current", -1}, {"queues_max", 4}}}),
      status({{{"name", "eth0"}, {"role", "tunable"}, {"queues_current", 1}, {"queues_max", 1u << 30}}}),
      status({{{"name", "eth0"}, {"role", "tunable"}, {"queues_current", "1"}, {"queues_max", 4}}}),
      status(nlohmann::json::array({1})),
  };
  for (const auto& b : bad) EXPECT_FALSE(guest_view_from(b, ifs).ok()) << b.dump();
  nlohmann::json many = nlohmann::json::array();
  for (int i = 0; i < 65; ++i) many.push_back({{"name", "eth" + std::to_string(i)}, {"role", "other"}});
  EXPECT_FALSE(guest_view_from(status(many), ifs).ok());
}

// --- host snapshot trees ------------------------------------------------------------------------

TEST(AdviseHost, TreesFindWhatTheyHold) {
  const std::map<std::string, std::string> want = {
      {"guide-2x10-smt", "smt"},
      {"one-node-8-nosmt", ""},
      {"amd-nps4-2x16-smt", "smt"},
      {"amd-nps1-2x16-smt", "kvm-amd-avic numa-nps smt"},
      {"untuned-2x10-smt",
       "bridge-nf-call c-states cpu-governor host-kernel kvm-intel-ept mitigations napi-budget nic-rings nic-udp-hash smt "
       "vhost-zcopytx"},
  };
  for (const auto& [tree, ids_want] : want) {
    const AdviseRun r = advise_run(tree, nullptr, {}, /*host=*/true);
    std::multiset<std::string> got = ids(r.doc, "host");
    EXPECT_EQ(joined(got), ids_want) << tree << ":\n" << r.text << r.err;
  }
}

TEST(AdviseHost, TheUntunedHostsChanges) {
  const AdviseRun r = advise_run("untuned-2x10-smt", nullptr, {}, true);
  std::map<std::string, nlohmann::json> by_id;
  for (const auto& f : r.doc["findings"]) by_id[f["id"].get<std::string>()] = f;
  EXPECT_EQ(by_id.at("bridge-nf-call")["changes"][0]["text"],
            "net.bridge.bridge-nf-call-iptables = 0\nnet.bridge.bridge-nf-call-ip6tables = 0\n"
            "net.bridge.bridge-nf-call-arptables = 0");
  EXPECT_EQ(by_id.at("nic-rings")["changes"][0]["text"], "ethtool -G eno1 rx 256 tx 256");
  EXPECT_EQ(by_id.at("nic-udp-hash")["changes"][0]["text"], "ethtool -N eno1 rx-flow-hash udp4 sdfn");
  EXPECT_EQ(by_id.at("vhost-zcopytx")["severity"], "optional");
  EXPECT_EQ(by_id.at("napi-budget")["severity"], "optional");
  EXPECT_NE(by_id.at("napi-budget")["seen"].get<std::string>().find("16 squeezes, 2 drops"), std::string::npos);
  EXPECT_EQ(by_id.at("mitigations")["severity"], "trade-off");
  EXPECT_NE(by_id.at("mitigations")["changes"][0]["text"].get<std::string>().find("ONLY"), std::string::npos);
  EXPECT_EQ(r.code, 6);
}

TEST(AdviseHost, BridgeNetfilterMattersOnlyWithGuestsOnTheBridge) {
  HostSpec h = untuned_host();
  h.guest_taps = 0;
  TempDir dir;
  write_host_tree(h, dir.path());
  const SysRoot root(dir.path());
  SnapshotHostNic nics(root);
  auto facts = probe_host(root, nics);
  ASSERT_TRUE(facts.ok());
  for (const auto& f : host_findings(*facts, {})) EXPECT_NE(f.id, "bridge-nf-call");
}

TEST(AdviseHost, IrqbalanceWithPinnedDomains) {
  HostSpec h = guide_host();
  h.files["proc/77/comm"] = "irqbalance\n";
  TempDir dir;
  write_host_tree(h, dir.path());
  const SysRoot root(dir.path());
  SnapshotHostNic nics(root);
  auto facts = probe_host(root, nics);
  ASSERT_TRUE(facts.ok());
  bool found = false;
  for (const auto& f : host_findings(*facts, CpuSet::range(1, 9)))
    if (f.id == "irqbalance") {
      found = true;
      EXPECT_NE(f.changes[0].text.find("IRQBALANCE_BANNED_CPULIST=1-9"), std::string::npos);
    }
  EXPECT_TRUE(found);
  for (const auto& f : host_findings(*facts, {})) EXPECT_NE(f.id, "irqbalance");
}

TEST(AdviseHost, RxhLetters) {
  EXPECT_EQ(rxh_letters(rxh::kSdfn), "sdfn");
  EXPECT_EQ(*parse_rxh("sd"), rxh::kIpSrc | rxh::kIpDst);
  EXPECT_FALSE(parse_rxh("sdx").ok());
}

// --- the guide's example: golden ----------------------------------------------------------------

TEST(AdviseGolden, TheGuidesExampleDomain) {
  FileSource src;
  src.xml["guide-example"] = file_text(kDomains + "/guide-example.xml");
  const AdviseRun r = advise_run("guide-2x10-smt", &src, {"guide-example"}, /*host=*/true);
  const std::string json = r.doc.dump(2) + "\n";
  for (const auto& [file, text] : {std::pair<std::string, std::string>{kGolden + "/guide-example.json", json},
                                   {kGolden + "/guide-example.txt", r.text}}) {
    if (std::getenv("GN_UPDATE_GOLDEN") != nullptr) {
      fs::create_directories(kGolden);
      std::ofstream(file) << text;
    }
    ASSERT_TRUE(fs::exists(file)) << file << " is missing: run with GN_UPDATE_GOLDEN=1 and review it";
    EXPECT_EQ(file_text(file), text) << file << " differs (GN_UPDATE_GOLDEN=1 rewrites it for review)";
  }
}

// --- exit codes, usage, renderers ---------------------------------------------------------------

TEST(AdviseExit, ExitCodes) {
  FileSource src;
  src.xml["gn-tuned"] = file_text(kDomains + "/tuned.xml");
  src.xml["gn-hugepages"] = file_text(kDomains + "/hugepages.xml");
  src.xml["gn-vcpu-pinning"] = file_text(kDomains + "/vcpu-pinning.xml");
  EXPECT_EQ(advise_run("guide-2x10-smt", &src, {"gn-tuned"}, false).code, 0);
  EXPECT_EQ(advise_run("guide-2x10-smt", &src, {"gn-hugepages"}, false).code, 0) << "optional findings only";
  EXPECT_EQ(advise_run("guide-2x10-smt", &src, {"gn-vcpu-pinning"}, false).code, 6);
  const AdviseRun missing = advise_run("guide-2x10-smt", &src, {"gn-nosuch"}, false);
  EXPECT_EQ(missing.code, 2);
  EXPECT_NE(missing.doc["errors"][0].get<std::string>().find("gn-nosuch"), std::string::npos);
  src.xml["gn-broken"] = "<domain><vcpu>x</vcpu></domain>";
  const AdviseRun all = advise_run("guide-2x10-smt", &src, {}, false, /*all=*/true);
  EXPECT_EQ(all.code, 15);
  EXPECT_EQ(all.doc["domains"].size(), 3u);
  EXPECT_EQ(all.doc["errors"].size(), 1u);
}

TEST(AdviseExit, Usage) {
  EXPECT_FALSE(parse_advise_args({}).ok());
  EXPECT_FALSE(parse_advise_args({"--domain", "a", "--all"}).ok());
  EXPECT_FALSE(parse_advise_args({"--bogus"}).ok());
  auto stray = parse_advise_args({"--host", "gn-vm1"});  // a domain without --domain
  ASSERT_FALSE(stray.ok());
  EXPECT_NE(stray.error().text().find("positional"), std::string::npos) << stray.error().text();
  EXPECT_FALSE(parse_advise_args({"--host", "--timeout", "0"}).ok());
  EXPECT_FALSE(parse_advise_args({"--host", "--guest-path", "rel"}).ok());
  // A placeholder of Boost's error template in the value: refused, not spun on for ever.
  auto placeholder = parse_advise_args({"--host", "--timeout", "%value%"});
  ASSERT_FALSE(placeholder.ok());
  EXPECT_NE(placeholder.error().text().find("('%value%')"), std::string::npos) << placeholder.error().text();
  auto a = parse_advise_args({"--domain", "a", "--domain", "b", "--host", "--json", "--no-guest", "--root", "/x"});
  ASSERT_TRUE(a.ok()) << a.error().text();
  EXPECT_EQ(a->options.domains, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(a->options.host && a->options.json && !a->options.guest);
  EXPECT_EQ(a->options.root, "/x");
  EXPECT_TRUE(parse_advise_args({"--help"})->help);
  EXPECT_NE(advise_help().find("Exit codes"), std::string::npos);
}

TEST(AdviseRender, HostileNamesReachNoTerminal) {
  FileSource src;
  std::string xml = file_text(kDomains + "/vcpu-pinning.xml");
  const std::string evil = "evil\x1b]0;owned\x07\xc2\x9b";
  xml.replace(xml.find("gn-vcpu-pinning"), 15, evil);
  src.xml[evil] = xml;
  const AdviseRun r = advise_run("guide-2x10-smt", &src, {evil}, false);
  EXPECT_EQ(r.text.find('\x1b'), std::string::npos);
  EXPECT_EQ(r.text.find('\x07'), std::string::npos);
  EXPECT_EQ(r.text.find("\xc2\x9b"), std::string::npos);
  EXPECT_NE(r.text.find("evil\\x1b]0;owned\\x07\\u009b"), std::string::npos) << r.text;
  // The virsh commands quote the name for the shell.
  bool quoted = false;
  for (const auto& f : r.doc["findings"])
    for (const auto& c : f["changes"])
      if (c["kind"] == "virsh") quoted = quoted || c["text"].get<std::string>().find(" 'evil") != std::string::npos;
  EXPECT_TRUE(quoted);
  EXPECT_EQ(shell_word("a'b"), "'a'\\''b'");
  EXPECT_EQ(shell_word("web-1"), "web-1");
}

TEST(AdviseRender, TableShowsEachChangeOnce) {
  FileSource src;
  src.xml["gn-vcpu-no-free-pcpu"] = file_text(kDomains + "/vcpu-no-free-pcpu.xml");
  const AdviseRun r = advise_run("guide-2x10-smt", &src, {"gn-vcpu-no-free-pcpu"}, false);
  EXPECT_NE(r.text.find("the same as above"), std::string::npos) << r.text;
  size_t count = 0;
  for (size_t p = r.text.find("<cputune>"); p != std::string::npos; p = r.text.find("<cputune>", p + 1)) ++count;
  EXPECT_EQ(count, 1u) << r.text;
}

}  // namespace
}  // namespace gn::test
