// The agent's exit codes (documented in --help and docs/cli.md).
#pragma once

namespace gn::exit_code {
inline constexpr int kOk = 0;            // done: changed, or nothing to do
inline constexpr int kFailed = 1;        // could not read the system or write the state
inline constexpr int kUsage = 2;         // bad usage or input; nothing was read or written
inline constexpr int kPartial = 3;       // some NICs or settings failed (and were rolled back)
inline constexpr int kLockTimeout = 4;   // another run held the lock past --wait
inline constexpr int kNotPermitted = 5;  // writes are needed but not permitted (not root)
inline constexpr int kFindings = 6;      // `check` found warnings
}  // namespace gn::exit_code
