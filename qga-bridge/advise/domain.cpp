#include "domain.h"

#include <cctype>

#include "xml.h"

namespace gn::advise {

std::string DomainInterface::label() const {
  return mac.empty() ? "interface #" + std::to_string(index) : "interface " + mac;
}

bool DomainSpec::windows() const { return os_id.find("microsoft.com/win") != std::string::npos; }

Result<CpuSet> parse_libvirt_cpuset(std::string_view text) {
  const auto bad = [&](const std::string& why) {
    return make_error("cpuset '" + std::string(text.substr(0, 64)) + "'", why, "libvirt writes e.g. '1-4,^3,8'");
  };
  CpuSet add, exclude;
  std::string_view rest = trim(text);
  if (rest.empty()) return bad("empty");
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    std::string_view item = trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (comma != std::string_view::npos && trim(rest).empty()) return bad("ends in a comma");
    const bool negate = !item.empty() && item.front() == '^';
    if (negate) item.remove_prefix(1);
    const size_t dash = item.find('-');
    const auto first = parse_number(item.substr(0, dash), kMaxCpu);
    const auto last = dash == std::string_view::npos ? first : parse_number(item.substr(dash + 1), kMaxCpu);
    if (!first || !last) return bad("not a CPU number or range from 0 to " + std::to_string(kMaxCpu));
    if (*last < *first) return bad("a range that runs backwards");
    if (negate && dash != std::string_view::npos) return bad("an exclusion must be one CPU");
    for (unsigned c = *first; c <= *last; ++c) (negate ? exclude : add).add(c);
  }
  CpuSet out = add - exclude;
  if (out.empty()) return bad("names no CPU");
  return out;
}

bool valid_ifname(std::string_view name) {
  if (name.empty() || name.size() > 15 || name == "." || name == "..") return false;
  for (unsigned char c : name)
    if (c == '/' || c <= ' ' || c >= 0x7f || c == ':') return false;
  return true;
}

namespace {
bool valid_mac(std::string_view m) {
  if (m.size() != 17) return false;
  for (size_t i = 0; i < m.size(); ++i) {
    if (i % 3 == 2) {
      if (m[i] != ':') return false;
    } else if (!std::isxdigit(static_cast<unsigned char>(m[i]))) {
      return false;
    }
  }
  return true;
}

// A bounded number attribute: absent → nullopt; present but bad → an error naming it.
Result<std::optional<unsigned>> number_attr(const XmlTree& node, const char* name, unsigned max,
                                            const std::string& where) {
  const auto v = attr(node, name);
  if (!v) return std::optional<unsigned>();
  const auto n = parse_number(*v, max);
  if (!n) return make_error(where, std::string(name) + "='" + v->substr(0, 32) + "' is not a number from 0 to " +
                                       std::to_string(max));
  return std::optional<unsigned>(*n);
}

Result<CpuSet> cpuset_attr(const XmlTree& node, const char* name, const std::string& where) {
  const auto v = attr(node, name);
  if (!v) return make_error(where, std::string("has no ") + name);
  auto s = parse_libvirt_cpuset(*v);
  if (!s) return make_error(where, s.error().text());
  return s;
}

Result<DomainInterface> parse_interface(const XmlTree& node, unsigned index, const std::string& what) {
  DomainInterface i;
  i.index = index;
  const std::string where = what + " interface #" + std::to_string(index);
  i.type = attr(node, "type").value_or("");
  if (const auto m = node.get_child_optional("mac")) {
    const std::string mac = attr(*m, "address").value_or("");
    if (valid_mac(mac)) i.mac = mac;
  }
  if (const auto s = node.get_child_optional("source")) {
    for (const char* key : {"bridge", "network", "dev"})
      if (auto v = attr(*s, key)) {
        i.source = *v;
        break;
      }
    // A running domain's XML names the bridge of a libvirt network too.
    if (auto b = attr(*s, "bridge"); b && valid_ifname(*b)) i.bridge = *b;
  }
  if (const auto m = node.get_child_optional("model")) i.model = attr(*m, "type").value_or("");
  if (const auto d = node.get_child_optional("driver")) {
    i.driver_name = attr(*d, "name").value_or("");
    auto q = number_attr(*d, "queues", 1024, where);
    if (!q) return q.error();
    i.queues = *q;
    auto rx = number_attr(*d, "rx_queue_size", 65536, where);
    if (!rx) return rx.error();
    i.rx_queue_size = *rx;
    auto tx = number_attr(*d, "tx_queue_size", 65536, where);
    if (!tx) return tx.error();
    i.tx_queue_size = *tx;
  }
  if (const auto f = node.get_child_optional("coalesce.rx.frames")) {
    auto max = number_attr(*f, "max", 1u << 20, where);
    if (!max) return max.error();
    i.coalesce_rx_frames = *max;
  }
  return i;
}

Result<void> parse_cputune(const XmlTree& cputune, DomainSpec& d, const std::string& what) {
  for (const auto& [key, node] : cputune) {
    if (key == "vcpupin") {
      const std::string where = what + " <vcpupin>";
      auto v = number_attr(node, "vcpu", kMaxVcpus - 1, where);
      if (!v) return v.error();
      if (!*v) return make_error(where, "has no vcpu");
      auto set = cpuset_attr(node, "cpuset", where);
      if (!set) return set.error();
      if (d.vcpupin.count(**v)) return make_error(where, "vCPU " + std::to_string(**v) + " is pinned twice");
      d.vcpupin[**v] = *set;
    } else if (key == "emulatorpin") {
      auto set = cpuset_attr(node, "cpuset", what + " <emulatorpin>");
      if (!set) return set.error();
      d.emulatorpin = *set;
    }
  }
  return {};
}

Result<void> parse_numatune(const XmlTree& nt, DomainSpec& d, const std::string& what) {
  d.numatune = true;
  for (const auto& [key, node] : nt) {
    if (key == "memory") {
      d.numa_mode = attr(node, "mode").value_or("strict");  // libvirt's default mode
      d.numa_placement = attr(node, "placement").value_or("");
      if (attr(node, "nodeset")) {
        auto set = cpuset_attr(node, "nodeset", what + " <numatune><memory>");
        if (!set) return set.error();
        d.numa_nodeset = *set;
      }
    } else if (key == "memnode") {
      const std::string where = what + " <numatune><memnode>";
      MemNode m;
      auto cell = number_attr(node, "cellid", kMaxVcpus, where);
      if (!cell) return cell.error();
      m.cellid = cell->value_or(0);
      m.mode = attr(node, "mode").value_or("strict");
      auto set = cpuset_attr(node, "nodeset", where);
      if (!set) return set.error();
      m.nodeset = *set;
      d.memnodes.push_back(m);
    }
  }
  return {};
}
}  // namespace

Result<DomainSpec> parse_domain_xml(std::string_view text, const std::string& what) {
  auto tree = parse_xml(text, what);
  if (!tree) return tree.error();
  const auto root = tree->get_child_optional("domain");
  if (!root) return make_error(what, "not a libvirt domain document (no <domain> element)");
  DomainSpec d;
  d.name = child_text(*root, "name").value_or("");
  d.uuid = child_text(*root, "uuid").value_or("");
  if (const auto v = root->get_child_optional("vcpu")) {
    const auto n = parse_number(v->data(), kMaxVcpus);
    if (!n || *n == 0) return make_error(what, "<vcpu> is not a count from 1 to " + std::to_string(kMaxVcpus));
    d.vcpus = *n;
    auto cur = number_attr(*v, "current", kMaxVcpus, what + " <vcpu>");
    if (!cur) return cur.error();
    d.vcpus_current = *cur;
    d.vcpu_placement = attr(*v, "placement").value_or("");
    if (attr(*v, "cpuset")) {
      auto set = cpuset_attr(*v, "cpuset", what + " <vcpu>");
      if (!set) return set.error();
      d.vcpu_cpuset = *set;
    }
  }
  if (const auto ct = root->get_child_optional("cputune")) {
    auto r = parse_cputune(*ct, d, what);
    if (!r) return r.error();
  }
  for (const auto& [vcpu, set] : d.vcpupin)
    if (vcpu >= d.vcpus)
      return make_error(what + " <vcpupin vcpu='" + std::to_string(vcpu) + "'>", "pins a vCPU the domain does not have (" +
                                                                                     std::to_string(d.vcpus) + " vCPUs)");
  if (const auto nt = root->get_child_optional("numatune")) {
    auto r = parse_numatune(*nt, d, what);
    if (!r) return r.error();
  }
  if (const auto cpu = root->get_child_optional("cpu")) {
    d.cpu_mode = attr(*cpu, "mode").value_or("custom");
    if (const auto cache = cpu->get_child_optional("cache"))
      d.cpu_cache_passthrough = attr(*cache, "mode").value_or("") == "passthrough";
  }
  if (const auto mb = root->get_child_optional("memoryBacking")) d.hugepages = mb->count("hugepages") > 0;
  if (const auto f = root->get_child_optional("features")) d.hyperv = f->count("hyperv") > 0;
  if (const auto md = root->get_child_optional("metadata"))
    for (const auto& [key, node] : *md)
      if (key.size() > 10 && key.compare(key.size() - 10, 10, ":libosinfo") == 0)
        for (const auto& [k2, os] : node)
          if (k2.size() >= 3 && k2.compare(k2.size() - 3, 3, ":os") == 0) d.os_id = attr(os, "id").value_or("");
  if (const auto devs = root->get_child_optional("devices")) {
    unsigned index = 0;
    for (const auto& [key, node] : *devs) {
      if (key != "interface") continue;
      auto i = parse_interface(node, index++, what);
      if (!i) return i.error();
      d.interfaces.push_back(std::move(*i));
    }
  }
  return d;
}

}  // namespace gn::advise
