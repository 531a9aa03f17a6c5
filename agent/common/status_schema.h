// The JSON both sides speak: the agent writes it (plan, status, apply, revert, check with
// --json), the host tool reads it. docs/status-schema.json describes it.
#pragma once

namespace gn {

// Raised on any change a reader of an older version would misread.
inline constexpr int kSchemaVersion = 1;

}  // namespace gn
