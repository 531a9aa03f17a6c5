#include "schema.h"

#include <map>
#include <set>
#include <string_view>
#include <vector>

namespace gn::qga {

extern const char kStatusSchemaText[];  // generated from docs/status-schema.json (status_schema_text.cpp)

namespace {

using nlohmann::json;

std::string pointer_token(const std::string& key) {
  std::string t;
  for (char c : key) {
    if (c == '~') t += "~0";
    else if (c == '/') t += "~1";
    else t += c;
  }
  return t;
}

// JSON Schema counts characters (code points), not bytes; the parser has checked the UTF-8.
size_t characters(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xc0) != 0x80;
  return n;
}

std::string type_of(const json& v) {
  if (v.is_number_integer()) return "integer";  // signed and unsigned alike
  if (v.is_number()) return "number";
  return v.type_name();  // null, boolean, string, array, object
}

bool has_type(const json& v, const std::string& t) {
  if (t == "integer") return v.is_number_integer();
  if (t == "number") return v.is_number();
  if (t == "string") return v.is_string();
  if (t == "boolean") return v.is_boolean();
  if (t == "object") return v.is_object();
  if (t == "array") return v.is_array();
  if (t == "null") return v.is_null();
  return false;
}

// The patterns the schema uses, matched by hand: std::regex recurses once per character and can
// exhaust the stack on a long hostile string; these run in one pass.
bool digits(std::string_view s, size_t& i) {
  const size_t start = i;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  return i > start;
}

bool cpulist(std::string_view s) {  // ^$|^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*$
  if (s.empty()) return true;
  size_t i = 0;
  while (true) {
    if (!digits(s, i)) return false;
    if (i < s.size() && s[i] == '-' && (++i, !digits(s, i))) return false;
    if (i == s.size()) return true;
    if (s[i++] != ',') return false;
  }
}

bool decimal(std::string_view s) {  // ^[0-9]+$
  size_t i = 0;
  return digits(s, i) && i == s.size();
}

const std::map<std::string, bool (*)(std::string_view)>& known_patterns() {
  static const std::map<std::string, bool (*)(std::string_view)> table = {
      {"^$|^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*$", cpulist},
      {"^[0-9]+$", decimal},
  };
  return table;
}

const std::set<std::string>& annotations() {
  static const std::set<std::string> keys = {"$schema", "$id", "title", "description", "$comment", "examples"};
  return keys;
}

// Compares numbers exactly for every int64/uint64 and double (long double has a 64-bit mantissa).
long double number(const json& v) {
  if (v.is_number_unsigned()) return static_cast<long double>(v.get<std::uint64_t>());
  if (v.is_number_integer()) return static_cast<long double>(v.get<std::int64_t>());
  return static_cast<long double>(v.get<double>());
}

std::string quoted_list(const json& values) {
  std::string s;
  for (const auto& v : values) s += (s.empty() ? "" : ", ") + v.dump();
  return s;
}

class Validator {
 public:
  explicit Validator(const json& root) : root_(root) {}

  std::optional<SchemaViolation> check(const json& doc, const json& schema, const std::string& at) const {
    if (schema.is_boolean()) {
      if (schema.get<bool>()) return std::nullopt;
      return SchemaViolation{at, "is not allowed here"};
    }
    if (auto it = schema.find("$ref"); it != schema.end()) return check(doc, resolve(it->get<std::string>()), at);
    if (auto it = schema.find("type"); it != schema.end()) {
      bool ok = false;
      if (it->is_string()) ok = has_type(doc, it->get<std::string>());
      else
        for (const auto& t : *it) ok = ok || has_type(doc, t.get<std::string>());
      if (!ok)
        return SchemaViolation{at, "is " + type_of(doc) + ", must be " +
                                       (it->is_string() ? it->get<std::string>() : quoted_list(*it)) + " (type)"};
    }
    if (auto it = schema.find("const"); it != schema.end() && doc != *it)
      return SchemaViolation{at, "must be " + it->dump() + " (const)"};
    if (auto it = schema.find("enum"); it != schema.end()) {
      bool found = false;
      for (const auto& v : *it) found = found || doc == v;
      if (!found) return SchemaViolation{at, "is not one of " + quoted_list(*it) + " (enum)"};
    }
    if (auto it = schema.find("allOf"); it != schema.end())
      for (const auto& sub : *it)
        if (auto v = check(doc, sub, at)) return v;
    if (auto it = schema.find("oneOf"); it != schema.end())
      if (auto v = one_of(doc, *it, at)) return v;
    if (doc.is_string())
      if (auto v = check_string(doc.get_ref<const std::string&>(), schema, at)) return v;
    if (doc.is_number())
      if (auto v = check_number(doc, schema, at)) return v;
    if (doc.is_array())
      if (auto v = check_array(doc, schema, at)) return v;
    if (doc.is_object())
      if (auto v = check_object(doc, schema, at)) return v;
    return std::nullopt;
  }

  const json& resolve(const std::string& ref) const {
    return root_.at(json::json_pointer(ref.substr(1)));  // "#/definitions/x"; check_schema_supported vets them
  }

 private:
  std::optional<SchemaViolation> one_of(const json& doc, const json& branches, const std::string& at) const {
    std::vector<SchemaViolation> misses;
    for (const auto& sub : branches)
      if (auto v = check(doc, sub, at)) misses.push_back(*v);
    const size_t matches = branches.size() - misses.size();
    if (matches == 1) return std::nullopt;
    if (matches > 1) return SchemaViolation{at, "matches more than one allowed form (oneOf)"};
    // None: the branch that got furthest into the value says best what is wrong.
    const SchemaViolation* best = &misses.front();
    for (const auto& m : misses)
      if (m.pointer.size() > best->pointer.size()) best = &m;
    if (best->pointer != at) return *best;
    std::string why;
    for (const auto& m : misses) why += (why.empty() ? "" : "; or ") + m.rule;
    return SchemaViolation{at, "matches no allowed form (oneOf): " + why};
  }

  static std::optional<SchemaViolation> check_string(const std::string& s, const json& schema, const std::string& at) {
    const size_t n = characters(s);
    if (auto it = schema.find("maxLength"); it != schema.end() && n > it->get<size_t>())
      return SchemaViolation{at, "is " + std::to_string(n) + " characters long, more than " + it->dump() + " (maxLength)"};
    if (auto it = schema.find("minLength"); it != schema.end() && n < it->get<size_t>())
      return SchemaViolation{at, "is " + std::to_string(n) + " characters long, fewer than " + it->dump() + " (minLength)"};
    if (auto it = schema.find("pattern"); it != schema.end()) {
      const auto p = known_patterns().find(it->get<std::string>());
      if (p == known_patterns().end() || !p->second(s))
        return SchemaViolation{at, "does not match " + it->dump() + " (pattern)"};
    }
    return std::nullopt;
  }

  static std::optional<SchemaViolation> check_number(const json& v, const json& schema, const std::string& at) {
    const long double x = number(v);
    if (auto it = schema.find("minimum"); it != schema.end() && x < number(*it))
      return SchemaViolation{at, "is " + v.dump() + ", below the minimum " + it->dump() + " (minimum)"};
    if (auto it = schema.find("maximum"); it != schema.end() && x > number(*it))
      return SchemaViolation{at, "is " + v.dump() + ", above the maximum " + it->dump() + " (maximum)"};
    if (auto it = schema.find("exclusiveMinimum"); it != schema.end() && !(x > number(*it)))
      return SchemaViolation{at, "is " + v.dump() + ", must be above " + it->dump() + " (exclusiveMinimum)"};
    if (auto it = schema.find("exclusiveMaximum"); it != schema.end() && !(x < number(*it)))
      return SchemaViolation{at, "is " + v.dump() + ", must be below " + it->dump() + " (exclusiveMaximum)"};
    return std::nullopt;
  }

  std::optional<SchemaViolation> check_array(const json& a, const json& schema, const std::string& at) const {
    if (auto it = schema.find("maxItems"); it != schema.end() && a.size() > it->get<size_t>())
      return SchemaViolation{at, "has " + std::to_string(a.size()) + " items, more than " + it->dump() + " (maxItems)"};
    if (auto it = schema.find("minItems"); it != schema.end() && a.size() < it->get<size_t>())
      return SchemaViolation{at, "has " + std::to_string(a.size()) + " items, fewer than " + it->dump() + " (minItems)"};
    if (auto it = schema.find("items"); it != schema.end())
      for (size_t i = 0; i < a.size(); ++i)
        if (auto v = check(a[i], *it, at + "/" + std::to_string(i))) return v;
    return std::nullopt;
  }

  std::optional<SchemaViolation> check_object(const json& o, const json& schema, const std::string& at) const {
    if (auto it = schema.find("required"); it != schema.end())
      for (const auto& k : *it)
        if (!o.contains(k.get<std::string>()))
          return SchemaViolation{at + "/" + pointer_token(k.get<std::string>()), "is missing (required)"};
    if (auto it = schema.find("maxProperties"); it != schema.end() && o.size() > it->get<size_t>())
      return SchemaViolation{at, "has " + std::to_string(o.size()) + " members, more than " + it->dump() +
                                     " (maxProperties)"};
    const auto props = schema.find("properties");
    const auto extra = schema.find("additionalProperties");
    const auto names = schema.find("propertyNames");
    for (const auto& [key, value] : o.items()) {
      const std::string here = at + "/" + pointer_token(key);
      if (names != schema.end())
        if (auto v = check(json(key), *names, here)) return SchemaViolation{here, "the name " + v->rule + " (propertyNames)"};
      if (props != schema.end() && props->contains(key)) {
        if (auto v = check(value, (*props)[key], here)) return v;
      } else if (extra != schema.end()) {
        if (auto v = check(value, *extra, here)) return v;
      }
    }
    return std::nullopt;
  }

  const json& root_;
};

// Keywords whose value is one schema, a map of schemas, or a list of schemas.
const std::set<std::string> kOneSchema = {"items", "additionalProperties", "propertyNames"};
const std::set<std::string> kSchemaMap = {"properties", "definitions"};
const std::set<std::string> kSchemaList = {"oneOf", "allOf"};
const std::set<std::string> kPlain = {"type",     "const",     "enum",    "required", "minLength",        "maxLength",
                                      "minimum",  "maximum",   "minItems", "maxItems", "exclusiveMinimum", "exclusiveMaximum",
                                      "maxProperties"};

Result<void> supported(const json& schema, const json& root, const std::string& at) {
  if (schema.is_boolean()) return {};
  if (!schema.is_object()) return make_error(at, "is not a schema");
  for (const auto& [key, value] : schema.items()) {
    const std::string here = at + "/" + pointer_token(key);
    if (annotations().count(key) || kPlain.count(key)) continue;
    if (key == "pattern") {
      if (!value.is_string() || !known_patterns().count(value.get<std::string>()))
        return make_error(here, "the pattern " + value.dump() + " has no matcher in qga-bridge/schema.cpp");
    } else if (key == "$ref") {
      if (!value.is_string() || value.get<std::string>().rfind("#/", 0) != 0 ||
          !root.contains(json::json_pointer(value.get<std::string>().substr(1))))
        return make_error(here, "the reference " + value.dump() + " does not resolve inside the file");
    } else if (kOneSchema.count(key)) {
      if (auto r = supported(value, root, here); !r) return r;
    } else if (kSchemaMap.count(key)) {
      for (const auto& [name, sub] : value.items())
        if (auto r = supported(sub, root, here + "/" + pointer_token(name)); !r) return r;
    } else if (kSchemaList.count(key)) {
      for (size_t i = 0; i < value.size(); ++i)
        if (auto r = supported(value[i], root, here + "/" + std::to_string(i)); !r) return r;
    } else {
      return make_error(here, "the keyword is not implemented by qga-bridge/schema.cpp");
    }
  }
  return {};
}

}  // namespace

const json& status_schema() {
  static const json schema = json::parse(kStatusSchemaText);
  return schema;
}

std::optional<SchemaViolation> validate(const json& doc, const json& schema, const json& root) {
  return Validator(root).check(doc, schema, "");
}

std::optional<SchemaViolation> validate_status(const json& doc) {
  return validate(doc, status_schema(), status_schema());
}

std::optional<SchemaViolation> validate_definition(const json& doc, const std::string& definition) {
  return validate(doc, status_schema().at("definitions").at(definition), status_schema());
}

Result<void> check_schema_supported(const json& schema) { return supported(schema, schema, ""); }

}  // namespace gn::qga
