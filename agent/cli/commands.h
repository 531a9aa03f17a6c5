// The subcommands; main() only parses and dispatches. Each returns an exit code.
#pragma once

#include <iosfwd>

#include "cli.h"

namespace gn {

int run_plan(const CliOptions& o, std::ostream& out);
int run_capture(const CliOptions& o, std::ostream& out);
int run_apply(const CliOptions& o, std::ostream& out);
int run_revert(const CliOptions& o, std::ostream& out);
int run_status(const CliOptions& o, std::ostream& out);
int run_check(const CliOptions& o, std::ostream& out);

}  // namespace gn
