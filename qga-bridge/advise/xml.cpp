#include "xml.h"

#include <boost/property_tree/xml_parser.hpp>
#include <sstream>

#include "cpuset.h"

namespace gn::advise {

namespace {
// The deepest element nesting of `text`, counted without parsing: '<' followed by a name opens,
// "</" and "/>" close. Comments, CDATA and processing instructions do not count. Conservative
// enough to refuse input that would make the recursive parser below go deep.
int nesting_depth(std::string_view text) {
  int depth = 0, deepest = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '<' && i + 1 < text.size()) {
      const char c = text[i + 1];
      if (c == '/') --depth;
      else if (c != '!' && c != '?') deepest = std::max(deepest, ++depth);
    } else if (text[i] == '/' && i + 1 < text.size() && text[i + 1] == '>') {
      --depth;
    }
  }
  return deepest;
}
}  // namespace

Result<XmlTree> parse_xml(std::string_view text, const std::string& what) {
  if (text.size() > kXmlMaxBytes)
    return make_error(what, "XML document of " + std::to_string(text.size()) + " bytes is over the " +
                                std::to_string(kXmlMaxBytes >> 20) + " MiB this tool reads");
  if (text.find("<!DOCTYPE") != std::string_view::npos || text.find("<!ENTITY") != std::string_view::npos)
    return make_error(what, "XML with a DOCTYPE or ENTITY declaration is not what libvirt writes: refused");
  if (nesting_depth(text) > kXmlMaxDepth)
    return make_error(what, "XML nested deeper than " + std::to_string(kXmlMaxDepth) + " elements: refused");
  XmlTree tree;
  try {
    std::istringstream in{std::string(text)};
    boost::property_tree::read_xml(in, tree, boost::property_tree::xml_parser::no_comments);
  } catch (const boost::property_tree::xml_parser_error& e) {
    return make_error(what, std::string("malformed XML: ") + e.message() + " at line " + std::to_string(e.line()));
  } catch (const std::exception& e) {
    return make_error(what, std::string("malformed XML: ") + e.what());
  }
  return tree;
}

std::optional<std::string> attr(const XmlTree& node, const char* name) {
  const auto attrs = node.get_child_optional("<xmlattr>");
  if (!attrs) return std::nullopt;
  const auto v = attrs->get_optional<std::string>(XmlTree::path_type(name, '\0'));
  if (!v) return std::nullopt;
  return std::string(trim(*v));
}

std::optional<std::string> child_text(const XmlTree& node, const char* path) {
  const auto c = node.get_child_optional(path);
  if (!c) return std::nullopt;
  return std::string(trim(c->data()));
}

std::optional<unsigned> parse_number(std::string_view text, unsigned max) {
  text = trim(text);
  if (text.empty() || text.size() > 10) return std::nullopt;
  unsigned long v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<unsigned long>(c - '0');
  }
  if (v > max) return std::nullopt;
  return static_cast<unsigned>(v);
}

}  // namespace gn::advise
