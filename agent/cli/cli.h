// Command-line and config-file options, shared by every subcommand.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "policy.h"
#include "result.h"

namespace gn {

struct CliOptions {
  std::string command;       // plan, apply, revert, status, capture
  bool help = false;
  std::string help_text;    // set only with help
  std::string root = "/";
  std::string config;        // the config file read ("" for none)
  std::string state_dir;     // journal directory; default ROOT/var/lib/guest-nettune
  std::string run_dir;       // status file and lock; default ROOT/run
  double wait_seconds = 30;  // lock wait
  bool json = false;
  bool dry_run = false;
  bool automatic = false;    // apply --automatic: the boot unit's and udev's runs (see reapply_scope.h)
  bool verbose = false;
  std::string capture_dir;   // capture DIR
  bool prometheus = false;   // status --prometheus
  double sample_seconds = 0; // status/check --sample S
  Policy policy;
};

// Parses argv after the subcommand name. Errors are usage errors (exit 2): unknown option or
// config key, bad value, bad interface name. Reads the config file (ROOT/etc/guest-nettune/
// guest-nettune.conf unless --config says otherwise; a missing default file is fine).
Result<CliOptions> parse_cli(const std::string& command, const std::vector<std::string>& args);

std::string main_help();

}  // namespace gn
