// Domain and capabilities XML from libvirt, read defensively: a size cap, a nesting cap, no DTD
// or external entities (Boost.PropertyTree's parser has none to expand), errors as values.
#pragma once

#include <boost/property_tree/ptree.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "result.h"

namespace gn::advise {

using XmlTree = boost::property_tree::ptree;

inline constexpr size_t kXmlMaxBytes = 4u << 20;  // libvirt's own documents are a few KiB
inline constexpr int kXmlMaxDepth = 48;           // a domain document nests about 8 deep

// Parses `text` (what = "domain web1" for messages). Refuses input over the caps, malformed XML
// and DOCTYPE declarations.
Result<XmlTree> parse_xml(std::string_view text, const std::string& what);

// An attribute of `node`, if present.
std::optional<std::string> attr(const XmlTree& node, const char* name);
// The text of a child element (trimmed), if present.
std::optional<std::string> child_text(const XmlTree& node, const char* path);

// A decimal number from 0 to `max` with nothing else around it; nullopt otherwise.
std::optional<unsigned> parse_number(std::string_view text, unsigned max);

}  // namespace gn::advise
