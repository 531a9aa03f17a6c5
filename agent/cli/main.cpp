// guest-nettune: parse the command line, dispatch to the subcommand, turn errors into exit codes.
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <iostream>
#include <string>
#include <vector>

#include "cli.h"
#include "commands.h"
#include "exit_codes.h"
#include "version.h"

int main(int argc, char** argv) {
  using namespace gn;
  try {
    // Messages for people go to stderr, plain: "guest-nettune: error: ...".
    auto logger = spdlog::stderr_logger_st("guest-nettune");
    logger->set_pattern("guest-nettune: %l: %v");
    logger->set_level(spdlog::level::info);
    spdlog::set_default_logger(logger);

    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
      std::cout << main_help();
      return args.empty() ? exit_code::kUsage : exit_code::kOk;
    }
    if (args[0] == "--version") {
      std::cout << "guest-nettune " << kVersion << "\n";
      return exit_code::kOk;
    }
    const std::string command = args[0];
    using Runner = int (*)(const CliOptions&, std::ostream&);
    Runner run = nullptr;
    if (command == "plan") run = run_plan;
    else if (command == "capture") run = run_capture;
    else if (command == "apply") run = run_apply;
    else if (command == "revert") run = run_revert;
    else if (command == "status") run = run_status;
    else if (command == "check") run = run_check;
    if (run == nullptr) {
      spdlog::error("unknown command '{}' (see guest-nettune --help)", command);
      return exit_code::kUsage;
    }
    auto opts = parse_cli(command, std::vector<std::string>(args.begin() + 1, args.end()));
    if (!opts) {
      spdlog::error("{} {}", command, opts.error().text());
      return exit_code::kUsage;
    }
    if (opts->help) {
      std::cout << opts->help_text;
      return exit_code::kOk;
    }
    if (opts->verbose) spdlog::set_level(spdlog::level::debug);
    return run(*opts, std::cout);
  } catch (const std::exception& e) {
    // Fatal errors only: recoverable ones are values and never get here.
    std::cerr << "guest-nettune: critical: " << e.what() << "\n";
    return exit_code::kFailed;
  }
}
