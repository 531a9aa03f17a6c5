#include "ethtool.h"

#include <linux/ethtool.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "catalogue.h"
#include "ethtool_ioctl.h"

namespace gn {

namespace {
Error ioctl_error(const std::string& nic, const std::string& what, int err) {
  std::string hint;
  if (err == EPERM) hint = "run as root";
  if (err == ENODEV) hint = "the interface is gone";
  return make_error(nic, what + ": " + std::strerror(err), hint, err);
}
}  // namespace

Result<std::string> IoctlEthtool::driver(const std::string& nic) {
  struct ethtool_drvinfo info {};
  info.cmd = ETHTOOL_GDRVINFO;
  auto rc = ethtool_ioctl(nic, &info);
  if (!rc) return rc.error();
  if (*rc != 0) return ioctl_error(nic, "reading the driver name (ETHTOOL_GDRVINFO)", *rc);
  return std::string(info.driver, strnlen(info.driver, sizeof info.driver));
}

Result<Channels> IoctlEthtool::channels(const std::string& nic) {
  struct ethtool_channels ec {};
  ec.cmd = ETHTOOL_GCHANNELS;
  auto rc = ethtool_ioctl(nic, &ec);
  if (!rc) return rc.error();
  if (*rc != 0) return ioctl_error(nic, "reading channels (ETHTOOL_GCHANNELS)", *rc);
  Channels c;
  c.max_rx = ec.max_rx;
  c.max_tx = ec.max_tx;
  c.max_other = ec.max_other;
  c.max_combined = ec.max_combined;
  c.rx = ec.rx_count;
  c.tx = ec.tx_count;
  c.other = ec.other_count;
  c.combined = ec.combined_count;
  return c;
}

Result<void> IoctlEthtool::set_channels(const std::string& nic, const Channels& want) {
  struct ethtool_channels ec {};
  ec.cmd = ETHTOOL_SCHANNELS;
  ec.rx_count = want.rx;
  ec.tx_count = want.tx;
  ec.other_count = want.other;
  ec.combined_count = want.combined;
  auto rc = ethtool_ioctl(nic, &ec);
  if (!rc) return rc.error();
  if (*rc != 0)
    return ioctl_error(nic, "setting channels to " + channels_setting_text(want) + " (ETHTOOL_SCHANNELS)", *rc);
  return {};
}

Result<std::vector<std::pair<std::string, uint64_t>>> IoctlEthtool::stats(const std::string& nic) {
  // How many, their names (ETHTOOL_GSTRINGS), then the values (ETHTOOL_GSTATS).
  alignas(struct ethtool_sset_info) char sset_buf[sizeof(struct ethtool_sset_info) + sizeof(uint32_t)] = {};
  auto* sset = reinterpret_cast<struct ethtool_sset_info*>(sset_buf);
  sset->cmd = ETHTOOL_GSSET_INFO;
  sset->sset_mask = 1ULL << ETH_SS_STATS;
  auto rc = ethtool_ioctl(nic, sset);
  if (!rc) return rc.error();
  if (*rc != 0) return ioctl_error(nic, "counting statistics (ETHTOOL_GSSET_INFO)", *rc);
  const uint32_t n = sset->sset_mask ? sset->data[0] : 0;
  if (n == 0) return make_error(nic, "the driver has no statistics", {}, EOPNOTSUPP);
  std::vector<char> strings(sizeof(struct ethtool_gstrings) + size_t{n} * ETH_GSTRING_LEN);
  auto* gs = reinterpret_cast<struct ethtool_gstrings*>(strings.data());
  gs->cmd = ETHTOOL_GSTRINGS;
  gs->string_set = ETH_SS_STATS;
  gs->len = n;
  rc = ethtool_ioctl(nic, gs);
  if (!rc) return rc.error();
  if (*rc != 0) return ioctl_error(nic, "reading statistic names (ETHTOOL_GSTRINGS)", *rc);
  std::vector<char> values(sizeof(struct ethtool_stats) + size_t{n} * sizeof(uint64_t));
  auto* st = reinterpret_cast<struct ethtool_stats*>(values.data());
  st->cmd = ETHTOOL_GSTATS;
  st->n_stats = n;
  rc = ethtool_ioctl(nic, st);
  if (!rc) return rc.error();
  if (*rc != 0) return ioctl_error(nic, "reading statistics (ETHTOOL_GSTATS)", *rc);
  std::vector<std::pair<std::string, uint64_t>> out;
  for (uint32_t i = 0; i < n; ++i) {
    const char* name = reinterpret_cast<const char*>(gs->data) + size_t{i} * ETH_GSTRING_LEN;
    out.emplace_back(std::string(name, strnlen(name, ETH_GSTRING_LEN)), st->data[i]);
  }
  return out;
}

Result<TxOffloads> IoctlEthtool::tx_offloads(const std::string& nic) {
  TxOffloads t;
  const auto get = [&](uint32_t cmd, bool& out, const char* what) -> Result<void> {
    struct ethtool_value v {};
    v.cmd = cmd;
    auto rc = ethtool_ioctl(nic, &v);
    if (!rc) return rc.error();
    if (*rc != 0) return ioctl_error(nic, what, *rc);
    out = v.data != 0;
    return {};
  };
  if (auto r = get(ETHTOOL_GTXCSUM, t.tx_checksum, "reading tx checksumming (ETHTOOL_GTXCSUM)"); !r) return r.error();
  if (auto r = get(ETHTOOL_GSG, t.scatter_gather, "reading scatter-gather (ETHTOOL_GSG)"); !r) return r.error();
  if (auto r = get(ETHTOOL_GTSO, t.tso, "reading TSO (ETHTOOL_GTSO)"); !r) return r.error();
  return t;
}

std::string format_ethtool_file(const EthtoolFile& f) {
  std::ostringstream o;
  o << "driver " << f.driver << "\n";
  if (const auto& c = f.channels) {
    o << "max_rx " << c->max_rx << "\nmax_tx " << c->max_tx << "\nmax_other " << c->max_other
      << "\nmax_combined " << c->max_combined << "\nrx " << c->rx << "\ntx " << c->tx
      << "\nother " << c->other << "\ncombined " << c->combined << "\n";
  }
  return o.str();
}

Result<EthtoolFile> parse_ethtool_file(const std::string& text) {
  EthtoolFile f;
  Channels c;
  unsigned counts = 0;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string key, value;
    if (!(words >> key)) continue;
    words >> value;
    if (key == "driver") {
      f.driver = value;
      continue;
    }
    uint32_t* slot = key == "max_rx" ? &c.max_rx : key == "max_tx" ? &c.max_tx
                   : key == "max_other" ? &c.max_other : key == "max_combined" ? &c.max_combined
                   : key == "rx" ? &c.rx : key == "tx" ? &c.tx : key == "other" ? &c.other
                   : key == "combined" ? &c.combined : nullptr;
    if (slot == nullptr) return make_error("", "unknown key '" + key + "'");
    char* end = nullptr;
    const unsigned long v = std::strtoul(value.c_str(), &end, 10);
    if (value.empty() || *end != '\0' || v > 65535)
      return make_error("", "'" + key + "' needs a count from 0 to 65535, not '" + value + "'");
    *slot = static_cast<uint32_t>(v);
    ++counts;
  }
  if (counts == 8) f.channels = c;
  else if (counts != 0) return make_error("", "has " + std::to_string(counts) + " of the 8 channel counts");
  return f;
}

namespace {
Result<EthtoolFile> read_snapshot_file(const SysRoot& root, const std::string& nic) {
  const std::string rel = paths::kSnapshotEthtool + "/" + nic;
  auto text = root.read(rel);
  if (!text) {
    if (text.error().code == ENOENT)
      return make_error(nic, "no ethtool information in this snapshot", {}, EOPNOTSUPP);
    return text.error();
  }
  auto f = parse_ethtool_file(*text);
  if (!f) return make_error(root.display(rel), f.error().message);
  return f;
}

// Adds or removes KIND-N queue directories as the kernel does; new ones copy queue 0's files
// with every mask digit zero and every number 0.
Result<void> resize_queues(const SysRoot& root, const std::string& nic, const char* kind, uint32_t want) {
  namespace fs = std::filesystem;
  const fs::path qdir = root.host_path(paths::kNetClass + "/" + nic + "/queues");
  const std::string prefix = std::string(kind) + "-";
  std::error_code ec;
  uint32_t have = 0;
  while (fs::exists(qdir / (prefix + std::to_string(have)), ec)) ++have;
  for (uint32_t q = want; q < have; ++q) fs::remove_all(qdir / (prefix + std::to_string(q)), ec);
  for (uint32_t q = have; q < want; ++q) {
    const fs::path dir = qdir / (prefix + std::to_string(q));
    fs::create_directories(dir, ec);
    if (ec) return make_error(dir.string(), "creating queue directory: " + ec.message());
    for (const auto& entry : fs::directory_iterator(qdir / (prefix + "0"), ec)) {
      if (!entry.is_regular_file()) continue;
      std::ifstream in(entry.path());
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      // The catalogue says which files hold masks; every other file (tx_maxrate, ...) a number.
      const std::string name = entry.path().filename().string();
      const Place place = std::string(kind) == "tx" ? Place::TxQueue : Place::RxQueue;
      bool mask = false;
      for (const auto& k : kKinds) mask = mask || (k.place == place && name == k.file && is_mask(k.kind));
      if (mask) {
        for (char& ch : text)
          if (ch != ',' && ch != '\n') ch = '0';
      } else {
        text = "0\n";
      }
      std::ofstream(dir / entry.path().filename()) << text;
    }
  }
  return {};
}
}  // namespace

Result<std::string> SnapshotEthtool::driver(const std::string& nic) {
  auto f = read_snapshot_file(root_, nic);
  if (!f) return f.error();
  return f->driver;
}

Result<Channels> SnapshotEthtool::channels(const std::string& nic) {
  auto f = read_snapshot_file(root_, nic);
  if (!f) return f.error();
  if (!f->channels) return ioctl_error(nic, "reading channels (ETHTOOL_GCHANNELS)", EOPNOTSUPP);
  return *f->channels;
}

Result<void> SnapshotEthtool::set_channels(const std::string& nic, const Channels& want) {
  auto f = read_snapshot_file(root_, nic);
  if (!f) return f.error();
  if (!f->channels) return ioctl_error(nic, "setting channels", EOPNOTSUPP);
  const Channels& cur = *f->channels;
  const bool bad = cur.combined_kind()
                       ? want.combined == 0 || want.combined > cur.max_combined
                       : want.rx == 0 || want.tx == 0 || want.rx > cur.max_rx || want.tx > cur.max_tx;
  if (bad) return ioctl_error(nic, "setting channels to " + channels_setting_text(want), EINVAL);
  Channels next = cur;
  next.rx = want.rx;
  next.tx = want.tx;
  next.other = want.other;
  next.combined = want.combined;
  if (auto r = resize_queues(root_, nic, "rx", next.combined + next.rx); !r) return r;
  if (auto r = resize_queues(root_, nic, "tx", next.combined + next.tx); !r) return r;
  f->channels = next;
  return root_.write(paths::kSnapshotEthtool + "/" + nic, format_ethtool_file(*f));
}

}  // namespace gn
