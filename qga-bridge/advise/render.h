// The advise report for people (a table per scope, changes shown once) and as JSON
// (docs/advise-schema.json). Renderers write to an injected stream; the data is one Report.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

#include "finding.h"
#include "text.h"

namespace gn::advise {

inline constexpr int kAdviseSchemaVersion = 1;

nlohmann::json report_json(const Report& r, const std::string& connect_uri);
void render_report(std::ostream& out, const Report& r);


}  // namespace gn::advise
