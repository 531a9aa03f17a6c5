#include "capture.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

namespace gn {

namespace fs = std::filesystem;

namespace {

class Recorder : public ReadRecorder {
 public:
  void file(const std::string& rel, const std::string& content) override { files[rel] = content; }
  void unreadable(const std::string& rel, int err) override { errors[rel] = err; }
  void link(const std::string& rel, const std::string& target) override { links[rel] = target; }
  void dir(const std::string& rel, const std::vector<DirEntry>& entries) override { dirs[rel] = entries; }

  std::map<std::string, std::string> files;
  std::map<std::string, int> errors;
  std::map<std::string, std::string> links;
  std::map<std::string, std::vector<DirEntry>> dirs;
};

// Passes calls through and keeps what each NIC answered.
class RecordingEthtool : public EthtoolIo {
 public:
  explicit RecordingEthtool(EthtoolIo& inner) : inner_(inner) {}
  Result<std::string> driver(const std::string& nic) override {
    auto r = inner_.driver(nic);
    if (r) seen[nic].driver = *r;
    else seen[nic];
    return r;
  }
  Result<Channels> channels(const std::string& nic) override {
    auto r = inner_.channels(nic);
    if (r) seen[nic].channels = *r;
    else seen[nic];
    return r;
  }
  Result<void> set_channels(const std::string& nic, const Channels& want) override {
    return make_error(nic, "capture never sets channels: " + channels_setting_text(want));
  }
  std::map<std::string, EthtoolFile> seen;

 private:
  EthtoolIo& inner_;
};

Result<void> write_file(const fs::path& p, const std::string& content) {
  std::error_code ec;
  fs::create_directories(p.parent_path(), ec);
  if (ec) return make_error(p.parent_path().string(), "creating directory: " + ec.message());
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << content;
  out.close();
  if (!out) return make_error(p.string(), "writing the snapshot file failed", "check free space and permissions");
  return {};
}

}  // namespace

Result<unsigned> capture_snapshot(const SysRoot& root, EthtoolIo& ethtool, const ProbeOptions& opts,
                                  const std::string& dest) {
  std::error_code ec;
  const fs::path out(dest);
  if (fs::exists(out, ec) && !fs::is_empty(out, ec))
    return make_error(dest, "is not empty", "give a new or empty directory");

  Recorder rec;
  RecordingEthtool eth(ethtool);
  SysRoot recorded(root.root());
  recorded.set_recorder(&rec);
  auto facts = probe(recorded, eth, opts);
  if (!facts) return facts.error();

  unsigned written = 0;
  // Links first (shortest first), so that later paths through them land in the right place.
  std::vector<std::pair<std::string, std::string>> links(rec.links.begin(), rec.links.end());
  std::stable_sort(links.begin(), links.end(),
                   [](const auto& a, const auto& b) { return a.first.size() < b.first.size(); });
  for (const auto& [rel, target] : links) {
    const fs::path p = out / rel;
    fs::create_directories(p.parent_path(), ec);
    if (fs::is_symlink(fs::symlink_status(p, ec))) continue;
    fs::create_symlink(target, p, ec);
    if (ec) return make_error(p.string(), "creating link: " + ec.message());
  }
  // Every listed entry exists in the snapshot with its type, so listings match.
  for (const auto& [rel, entries] : rec.dirs) {
    const fs::path d = out / rel;
    fs::create_directories(d, ec);
    for (const auto& e : entries) {
      const fs::path p = d / e.name;
      if (fs::exists(fs::symlink_status(p, ec))) continue;
      if (e.type == DirEntry::Type::Dir) {
        fs::create_directory(p, ec);
      } else if (e.type == DirEntry::Type::Link) {
        char buf[4096];
        const ssize_t n = ::readlink(root.host_path(rel + "/" + e.name).c_str(), buf, sizeof buf - 1);
        if (n > 0) fs::create_symlink(std::string(buf, static_cast<size_t>(n)), p, ec);
      } else if (e.type == DirEntry::Type::File) {
        std::ofstream(p).flush();
      }
    }
  }
  for (const auto& [rel, content] : rec.files) {
    if (auto r = write_file(out / rel, content); !r) return r.error();
    ++written;
  }
  std::string unreadable;
  // Files that failed to read fail the same way from the snapshot (an absent file stays absent;
  // one that was listed but unreadable, like xps_cpus of a single-queue NIC, stays listed).
  for (const auto& [rel, err] : rec.errors) unreadable += std::to_string(err) + " " + rel + "\n";
  if (auto r = write_file(out / paths::kSnapshotUnreadable, unreadable); !r) return r.error();
  for (const auto& [nic, f] : eth.seen)
    if (auto r = write_file(out / paths::kSnapshotEthtool / nic, format_ethtool_file(f)); !r) return r.error();
  if (auto r = write_file(out / paths::kSnapshotDir / "FORMAT", "guest-nettune snapshot 1\n"); !r) return r.error();
  return written;
}

}  // namespace gn
