// option_error_text: Boost.Program_options' message for each error, filled in once, so that an
// option value or config key holding a placeholder ("%value%") cannot make the parser spin.
#include <gtest/gtest.h>

#include <boost/program_options.hpp>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "option_error.h"

namespace gn::test {
namespace {

namespace po = boost::program_options;

po::options_description options() {
  po::options_description d;
  d.add_options()("help,h", "help")("root", po::value<std::string>())("rps", po::value<std::string>())(
      "rps-flow-entries", po::value<long long>())("wait", po::value<double>())("need", po::value<int>()->required());
  return d;
}

// Parses into vm: arguments, or a config file's text.
using Parse = std::function<void(po::variables_map&)>;
Parse command_line(std::vector<std::string> args) {
  return [args](po::variables_map& vm) { po::store(po::command_line_parser(args).options(options()).run(), vm); };
}
Parse config(std::string text) {
  return [text](po::variables_map& vm) {
    std::istringstream in(text);
    po::store(po::parse_config_file(in, options(), /*allow_unregistered=*/false), vm);
  };
}

// option_error_text() of the error that parsing throws, and, when asked, Boost's own what() of
// it (which never returns when the text holds a placeholder).
std::pair<std::string, std::string> texts_of(const Parse& parse, bool with_boosts = false) {
  try {
    po::variables_map vm;
    parse(vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return {option_error_text(e), with_boosts ? e.what() : ""};
  }
  return {"(no error)", ""};
}
std::string text_of(const Parse& parse) { return texts_of(parse).first; }

TEST(OptionError, IsBoostsOwnMessageForOrdinaryErrors) {
  const Parse ordinary[] = {
      command_line({"--frobnicate"}),                           // unknown long option
      command_line({"-x"}),                                     // unknown short option
      command_line({"--need", "1", "--wait", "soon"}),          // a value that is not a number
      command_line({"--need", "1", "--wait", ""}),              // empty: Boost's phrase without it
      command_line({"--need", "1", "--r", "x"}),                // ambiguous: root, rps, rps-flow-entries
      command_line({"--need", "1", "--rps", "a", "--rps", "b"}),  // given twice
      command_line({"--need", "1", "--wait"}),                  // value missing
      command_line({"--help=yes"}),                             // value where none is taken
      command_line({}),                                         // required option missing
      config("need = 1\nfrobnicate = 1\n"),                     // unknown key
      config("need = 1\nwait = soon\n"),                        // bad value in the file
      config("need = 1\nwait =\n"),                             // empty value in the file
      config("need = 1\nthis line has no equals sign\n"),       // syntax
  };
  for (const auto& parse : ordinary) {
    const auto [ours, boosts] = texts_of(parse, /*with_boosts=*/true);
    EXPECT_NE(ours, "(no error)");
    EXPECT_EQ(ours, boosts);
  }
  // Where the value is empty, Boost's default phrase stands in for the one that would show it.
  EXPECT_EQ(text_of(ordinary[3]), "the argument for option '--wait' is invalid");
}

TEST(OptionError, APlaceholderInTheUsersTextIsShownAsItIs) {
  // Boost's what() never returns from any of these.
  EXPECT_EQ(text_of(command_line({"--need", "1", "--wait", "%value%"})),
            "the argument ('%value%') for option '--wait' is invalid");
  EXPECT_EQ(text_of(config("need = 1\n%canonical_option% = 1\n")), "unrecognised option '%canonical_option%'");
  EXPECT_EQ(text_of(command_line({"--need", "1", "--wait", "%canonical_option%%value%%option%"})),
            "the argument ('%canonical_option%%value%%option%') for option '--wait' is invalid");
  EXPECT_EQ(text_of(command_line({"--%original_token%"})), "unrecognised option '--%original_token%'");
}

}  // namespace
}  // namespace gn::test
