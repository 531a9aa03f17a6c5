#include "catalogue.h"

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <new>
#include <string_view>

#include "kernel_paths.h"

namespace gn {

const char* to_string(Profile p) {
  switch (p) {
    case Profile::Observe: return "observe";
    case Profile::Balanced: return "balanced";
    case Profile::Throughput: return "throughput";
    case Profile::Latency: return "latency";
  }
  return "?";
}

std::optional<Profile> profile_from_string(std::string_view s) {
  for (auto p : {Profile::Observe, Profile::Balanced, Profile::Throughput, Profile::Latency})
    if (s == to_string(p)) return p;
  return std::nullopt;
}

const char* to_string(SettingKind k) { return row(k).name; }

std::string channels_setting_text(const Channels& c) {
  if (c.combined_kind()) return "combined " + std::to_string(c.combined);
  return "rx " + std::to_string(c.rx) + " tx " + std::to_string(c.tx);
}

std::optional<SettingKind> setting_kind_from_string(std::string_view s) {
  for (const auto& r : kKinds)
    if (s == r.name) return r.kind;
  return std::nullopt;
}

namespace {
constexpr std::string_view kNetCorePrefix = "net.core.";
}  // namespace

const SysctlRow* find_sysctl_row(std::string_view name) {
  if (name.substr(0, kNetCorePrefix.size()) == kNetCorePrefix) name.remove_prefix(kNetCorePrefix.size());
  for (const auto& r : kSysctls)
    if (name == r.name) return &r;
  return nullptr;
}

std::optional<ProfileValue> profile_value(const SysctlRow& r, Profile p) {
  switch (p) {
    case Profile::Observe:
    case Profile::Balanced: return std::nullopt;
    case Profile::Throughput: return r.throughput;
    case Profile::Latency: return r.latency;
  }
  return std::nullopt;
}

std::string sysctl_full_name(const SysctlRow& r) { return std::string(kNetCorePrefix) + r.name; }

namespace {
// The pieces laid end to end in one string: a path is built for each use, so it costs one
// allocation, not one per piece.
std::string joined(std::initializer_list<std::string_view> parts) {
  size_t n = 0;
  for (const auto p : parts) n += p.size();
  std::string out(n, '\0');
  char* at = out.data();
  for (const auto p : parts) {
    if (!p.empty()) std::memcpy(at, p.data(), p.size());
    at += p.size();
  }
  return out;
}
// A number's decimal digits in `buf`.
std::string_view decimal(char (&buf)[24], long long n) {
  const auto r = std::to_chars(buf, buf + sizeof buf, n);
  return {buf, static_cast<size_t>(r.ptr - buf)};
}
}  // namespace

unsigned Target::irq() const { return row(kind).place == Place::Irq ? number_ : 0; }

const SysctlRow* Target::sysctl() const {
  return row(kind).place == Place::Sysctl && number_ > 0 && number_ <= kSysctlCount ? &kSysctls[number_ - 1] : nullptr;
}

std::string Target::path(std::string_view prefix) const {
  const KindRow& k = row(kind);
  char num[24];
  switch (k.place) {
    case Place::Ethtool: return joined({prefix, "ethtool:", nic, ":channels"});
    case Place::RxQueue:
      return joined({prefix, paths::kNetClass, "/", nic, "/queues/rx-", decimal(num, queue_), "/", k.file});
    case Place::TxQueue:
      return joined({prefix, paths::kNetClass, "/", nic, "/queues/tx-", decimal(num, queue_), "/", k.file});
    case Place::Irq: return joined({prefix, paths::kIrqDir, "/", decimal(num, irq()), "/", k.file});
    case Place::Sysctl:
      return joined({prefix, paths::kNetCoreSysctl, "/", sysctl() ? std::string_view(sysctl()->name) : ""});
  }
  return {};
}

Kept Target::kept() const {
  const Kept k = row(kind).kept;
  if (k != Kept::PerSysctl) return k;
  return sysctl() ? sysctl()->kept : Kept::Same;
}

std::string Target::label() const {
  const KindRow& k = row(kind);
  switch (k.place) {
    case Place::Ethtool: return k.label;
    case Place::RxQueue: return "rx-" + std::to_string(queue_) + " " + k.label;
    case Place::TxQueue: return "tx-" + std::to_string(queue_) + " " + k.label;
    case Place::Irq: return std::string(k.label) + " " + std::to_string(irq()) + (queue_ >= 0 ? " q" + std::to_string(queue_) : "");
    case Place::Sysctl: return sysctl() ? sysctl_full_name(*sysctl()) : "sysctl";
  }
  return k.name;
}

Value Value::mask(ValueType type, CpuSet set, unsigned bits) {
  return mask(type, Shared<CpuSet>::make(std::move(set)), bits);
}

Value Value::mask(ValueType type, Shared<CpuSet> set, unsigned bits) {
  Value v;
  new (&v.slot_.set) Shared<CpuSet>(std::move(set));
  v.type_ = static_cast<unsigned char>(type);
  v.bits_ = bits;
  return v;
}

Value Value::number(long long n) {
  Value v;
  v.slot_.n = n;
  v.type_ = static_cast<unsigned char>(ValueType::Number);
  return v;
}

Value Value::channels(const Channels& c) {
  Value v;
  new (&v.slot_.counts) Shared<Channels>(Shared<Channels>::make(c));
  v.type_ = static_cast<unsigned char>(ValueType::Channels);
  return v;
}

const CpuSet& Value::cpus() const {
  static const CpuSet none;
  return is_mask() && slot_.set ? *slot_.set : none;
}

long long Value::num() const { return type_ == static_cast<unsigned char>(ValueType::Number) ? slot_.n : 0; }

const Channels& Value::counts() const {
  static const Channels none;
  return type_ == static_cast<unsigned char>(ValueType::Channels) && slot_.counts ? *slot_.counts : none;
}

std::string Value::text() const {
  if (empty()) return {};
  switch (static_cast<ValueType>(type_)) {
    case ValueType::CpuMask:
    case ValueType::QueueMask: return format_cpumask(cpus(), bits_);
    case ValueType::Number: return std::to_string(num());
    case ValueType::Channels: return channels_setting_text(counts());
  }
  return {};
}

std::string Value::for_people() const {
  if (empty()) return "-";
  switch (static_cast<ValueType>(type_)) {
    case ValueType::CpuMask:
    case ValueType::QueueMask: return cpus().empty() ? "none" : format_cpulist(cpus());
    case ValueType::Number:
    case ValueType::Channels: return text();
  }
  return text();
}

namespace {

bool parse_number(std::string_view s, long long& out) {
  const std::string t(trim(s));
  if (t.empty()) return false;
  errno = 0;
  char* end = nullptr;
  out = std::strtoll(t.c_str(), &end, 10);
  return *end == '\0' && errno == 0;
}

// "combined 4", "rx 4 tx 4", "rx 0 tx 0 other 0 combined 4": key and count pairs.
Result<Channels> parse_channels(std::string_view text, const Channels& limits) {
  Channels c = limits;
  const auto bad = [&] { return make_error("", "malformed channel counts '" + std::string(text) + "'"); };
  std::string_view rest = trim(text);
  bool any = false;
  while (!rest.empty()) {
    const auto sp = rest.find(' ');
    if (sp == std::string_view::npos) return bad();
    const std::string_view key = rest.substr(0, sp);
    rest = trim(rest.substr(sp + 1));
    const auto end = rest.find(' ');
    long long n = -1;
    if (!parse_number(rest.substr(0, end), n) || n < 0 || n > 65535) return bad();
    rest = end == std::string_view::npos ? std::string_view() : trim(rest.substr(end + 1));
    const auto count = static_cast<uint32_t>(n);
    if (key == "rx") c.rx = count;
    else if (key == "tx") c.tx = count;
    else if (key == "other") c.other = count;
    else if (key == "combined") c.combined = count;
    else return bad();
    any = true;
  }
  if (!any) return bad();
  return c;
}

}  // namespace

Result<Value> parse_value(ValueType type, std::string_view text, const Channels& limits) {
  switch (type) {
    case ValueType::CpuMask:
    case ValueType::QueueMask: {
      auto set = parse_cpumask(text);
      if (!set) return set.error();
      // The width the text has: what the kernel prints for this file.
      const std::string_view t = trim(text);
      unsigned groups = 1;
      for (char c : t) groups += c == ',';
      return Value::mask(type, std::move(*set), groups * 32);
    }
    case ValueType::Number: {
      long long n = 0;
      if (!parse_number(text, n)) return make_error("", "'" + std::string(trim(text)) + "' is not a number");
      return Value::number(n);
    }
    case ValueType::Channels: {
      auto c = parse_channels(text, limits);
      if (!c) return c.error();
      return Value::channels(*c);
    }
  }
  return make_error("", "unknown value type");
}

bool holds(std::string_view text, const Value& want) {
  if (want.empty()) return false;
  switch (*want.type()) {
    case ValueType::CpuMask:
    case ValueType::QueueMask: {
      return cpumask_is(text, want.cpus());
    }
    case ValueType::Number: {
      long long n = 0;
      return parse_number(text, n) && n == want.num();
    }
    case ValueType::Channels: {
      auto c = parse_channels(text, want.counts());
      return c && *c == want.counts();
    }
  }
  return false;
}

bool kernel_kept(Kept kept, std::string_view readback, const Value& written, const CpuSet& online) {
  if (holds(readback, written)) return true;
  switch (kept) {
    case Kept::Same:
    case Kept::PerSysctl: return false;
    case Kept::OnlineCpus: {
      // Without the online CPUs at hand (revert), any subset of what was written.
      auto set = parse_cpumask(readback);
      if (!set) return false;
      return online.empty() ? (*set - written.cpus()).empty() : *set == (written.cpus() & online);
    }
    case Kept::PowerOfTwo: {
      long long got = 0;
      if (!parse_number(readback, got) || written.num() <= 0) return false;
      long long p = 1;
      while (p < written.num()) p <<= 1;
      return got == p;
    }
  }
  return false;
}

}  // namespace gn
