// `guest-nettune-host advise` options (Boost.Program_options) and help.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "advise.h"
#include "result.h"

namespace gn::advise {

struct AdviseArgs {
  AdviseOptions options;
  bool help = false;
};

// Parses the arguments after "advise"; the error text is the usage problem.
Result<AdviseArgs> parse_advise_args(const std::vector<std::string>& args);
std::string advise_help();

}  // namespace gn::advise

namespace gn::advise {
// The whole subcommand: parse, open libvirt when domains are asked for, read, check, print.
// Returns the exit code.
int advise_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
}  // namespace gn::advise
