#include "option_error.h"

#include <boost/program_options/cmdline.hpp>
#include <boost/program_options/errors.hpp>
#include <iterator>
#include <map>
#include <set>
#include <utility>

namespace gn {

namespace po = boost::program_options;

namespace {

// Reads the parts of an error that Boost keeps protected. Never made: a class derived from the
// error may name its protected members, and a pointer to such a member reads any error.
struct ErrorParts : po::error_with_option_name {
  using Substitutions = std::map<std::string, std::string>;
  using Defaults = std::map<std::string, std::pair<std::string, std::string>>;
  static const Substitutions& substitutions(const po::error_with_option_name& e) {
    return e.*&ErrorParts::m_substitutions;
  }
  static const Defaults& defaults(const po::error_with_option_name& e) {
    return e.*&ErrorParts::m_substitution_defaults;
  }
  static int style(const po::error_with_option_name& e) { return e.*&ErrorParts::m_option_style; }
  static std::string prefix(const po::error_with_option_name& e) {
    return (e.*&ErrorParts::get_canonical_option_prefix)();
  }
};

// Every `from` in text becomes `to`, in one pass from left to right. Only for Boost's own phrases
// (the defaults for a missing value): they hold no text from the user.
void replace_phrase(std::string& text, const std::string& from, const std::string& to) {
  if (from.empty()) return;
  for (size_t at = 0; (at = text.find(from, at)) != std::string::npos; at += to.size()) text.replace(at, from.size(), to);
}

// Each "%name%" of the template that names a value becomes that value, in one pass from left to
// right: no value, and no text a value brought in, is searched for placeholders again. Other
// text between two '%' stays as it is, as Boost leaves it.
std::string fill(const std::string& text, const std::map<std::string, std::string>& values) {
  std::string out;
  size_t at = 0;
  for (size_t open; (open = text.find('%', at)) != std::string::npos;) {
    const size_t close = text.find('%', open + 1);
    if (close == std::string::npos) break;
    const auto it = values.find(text.substr(open + 1, close - open - 1));
    if (it == values.end()) {  // not a placeholder; its closing '%' may open the next one
      out.append(text, at, close - at);
      at = close;
      continue;
    }
    out.append(text, at, open - at);
    out += it->second;
    at = close + 1;
  }
  out.append(text, at);
  return out;
}

// An ambiguous long option lists what it matches, as Boost does: each distinct name once, in order.
std::string with_alternatives(const po::ambiguous_option& e, std::string text) {
  const int style = ErrorParts::style(e);
  if (style == po::command_line_style::allow_dash_for_short || style == po::command_line_style::allow_slash_for_short)
    return text;
  const std::set<std::string> names(e.alternatives().begin(), e.alternatives().end());
  if (names.empty()) return text;
  text += " and matches ";
  auto last = std::prev(names.end());
  if (names.size() > 1) {
    for (auto it = names.begin(); it != last; ++it) text += "'%prefix%" + *it + "', ";
    text += "and ";
  }
  if (e.alternatives().size() > 1 && names.size() == 1) text += "different versions of ";
  return text + "'%prefix%" + *last + "'";
}

}  // namespace

std::string option_error_text(const po::error& e) {
  const auto* named = dynamic_cast<const po::error_with_option_name*>(&e);
  if (named == nullptr) return e.what();  // no placeholders to fill
  std::string text = named->m_error_template;
  if (const auto* ambiguous = dynamic_cast<const po::ambiguous_option*>(named))
    text = with_alternatives(*ambiguous, std::move(text));

  ErrorParts::Substitutions values = ErrorParts::substitutions(*named);
  values["canonical_option"] = named->get_option_name();
  values["prefix"] = ErrorParts::prefix(*named);
  for (const auto& [name, from_to] : ErrorParts::defaults(*named)) {
    const auto it = values.find(name);
    if (it == values.end() || it->second.empty()) replace_phrase(text, from_to.first, from_to.second);
  }
  return fill(text, values);
}

}  // namespace gn
