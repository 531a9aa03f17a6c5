// Checking what a guest sends against docs/status-schema.json before any of it is used. The
// file is the one source of truth: the build embeds it into the host binary, and this validator
// implements the part of JSON Schema (draft 07) that the file uses. A keyword it does not know
// is a failure (check_schema_supported), never silently ignored.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "result.h"

namespace gn::qga {

// docs/status-schema.json as built into this binary.
const nlohmann::json& status_schema();

// Where a document breaks its schema and which rule: {"/nics/0/queues_current", "is -7, below
// the minimum 0 (minimum)"}. The pointer is RFC 6901; the rule quotes no string from the
// document (numbers and sizes only), but keys in the pointer are the document's own: neutralise
// both before showing them.
struct SchemaViolation {
  std::string pointer;
  std::string rule;
  std::string text() const { return (pointer.empty() ? "/" : pointer) + ": " + rule; }
};

// The first violation of `schema` (a part of `root`, which resolves "#/..." references) by
// `doc`, or nothing when it conforms.
std::optional<SchemaViolation> validate(const nlohmann::json& doc, const nlohmann::json& schema,
                                        const nlohmann::json& root);

// Validates against the embedded status schema, or against one of its definitions
// ("plan_output", ...), by name.
std::optional<SchemaViolation> validate_status(const nlohmann::json& doc);
std::optional<SchemaViolation> validate_definition(const nlohmann::json& doc, const std::string& definition);

// Every keyword and pattern in `schema` is one validate() implements; else the first that is not.
Result<void> check_schema_supported(const nlohmann::json& schema);

}  // namespace gn::qga
