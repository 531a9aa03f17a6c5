// Renderers of apply and revert results: JSON (also the status file) and lines for people.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>

#include "apply.h"
#include "json_out.h"
#include "policy.h"

namespace gn {

// The apply and revert documents (--json; apply's is also the status file), streamed; *_json are
// the same as values (tests).
void write_apply_json(JsonOut& out, const ApplyReport& r, const Policy& policy, const std::string& result);
void write_revert_json(JsonOut& out, const RevertReport& r, const std::string& result);
nlohmann::json apply_json(const ApplyReport& r, const Policy& policy, const std::string& result);
nlohmann::json revert_json(const RevertReport& r, const std::string& result);
// Silent when nothing was (or would be) written and nothing failed, unless verbose.
void render_apply_text(std::ostream& out, const ApplyReport& r, bool verbose);
void render_revert_text(std::ostream& out, const RevertReport& r, bool verbose);

// "ok" | "partial" from the errors.
const char* apply_result(const ApplyReport& r);
// UTC time as 2026-11-26T06:49:43Z.
std::string utc_now();

}  // namespace gn
