// option_error_text: Boost.Program_options' message for each error, filled in once, so that an
// option value or config key holding a placeholder ("%value%") cannot make the parser spin.
#include <gtest/gtest.h>

#include <boost/program_options.hpp>
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

// The error that parsing these arguments (or, with config set, this config text) throws.
template <typename Parse>
std::unique_ptr<po::error> error_of(Parse parse) {
  try {
    po::variables_map vm;
    parse(vm);
    po::notify(vm);
  } catch (const po::ambiguous_option& e) {
    return std::make_unique<po::ambiguous_option>(e);
  } catch (const po::invalid_option_value& e) {
    return std::make_unique<po::invalid_option_value>(e);
  } catch (const po::unknown_option& e) {
    return std::make_unique<po::unknown_option>(e);
  } catch (const po::multiple_occurrences& e) {
    return std::make_unique<po::multiple_occurrences>(e);
  } catch (const po::invalid_command_line_syntax& e) {
    return std::make_unique<po::invalid_command_line_syntax>(e);
  } catch (const po::invalid_config_file_syntax& e) {
    return std::make_unique<po::invalid_config_file_syntax>(e);
  } catch (const po::required_option& e) {
    return std::make_unique<po::required_option>(e);
  } catch (const po::error& e) {
    ADD_FAILURE() << "an error of a kind the test does not copy: " << e.what();
  }
  return nullptr;
}

std::unique_ptr<po::error> command_line_error(const std::vector<std::string>& args) {
  return error_of([&](po::variables_map& vm) { po::store(po::command_line_parser(args).options(options()).run(), vm); });
}

std::unique_ptr<po::error> config_error(const std::string& text) {
  return error_of([&](po::variables_map& vm) {
    std::istringstream in(text);
    po::store(po::parse_config_file(in, options(), /*allow_unregistered=*/false), vm);
  });
}

TEST(OptionError, IsBoostsOwnMessageForOrdinaryErrors) {
  std::vector<std::unique_ptr<po::error>> errors;
  errors.push_back(command_line_error({"--frobnicate"}));                  // unknown long option
  errors.push_back(command_line_error({"-x"}));                            // unknown short option
  errors.push_back(command_line_error({"--need", "1", "--wait", "soon"}));  // a value that is not a number
  errors.push_back(command_line_error({"--need", "1", "--wait", ""}));      // empty: Boost's phrase without it
  errors.push_back(command_line_error({"--need", "1", "--r", "x"}));        // ambiguous: root, rps, rps-flow-entries
  errors.push_back(command_line_error({"--need", "1", "--rps", "a", "--rps", "b"}));  // given twice
  errors.push_back(command_line_error({"--need", "1", "--wait"}));                    // value missing
  errors.push_back(command_line_error({"--help=yes"}));                               // value where none is taken
  errors.push_back(command_line_error({}));                                           // required option missing
  errors.push_back(config_error("need = 1\nfrobnicate = 1\n"));                       // unknown key
  errors.push_back(config_error("need = 1\nwait = soon\n"));                          // bad value in the file
  errors.push_back(config_error("need = 1\nwait =\n"));                              // empty value in the file
  errors.push_back(config_error("need = 1\nthis line has no equals sign\n"));         // syntax
  for (const auto& e : errors) {
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(option_error_text(*e), e->what());
  }
  // Where the value is empty, Boost's default phrase stands in for the one that would show it.
  EXPECT_EQ(option_error_text(*errors[3]), "the argument for option '--wait' is invalid");
}

TEST(OptionError, APlaceholderInTheUsersTextIsShownAsItIs) {
  // Boost's what() never returns from any of these.
  auto e = command_line_error({"--need", "1", "--wait", "%value%"});
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(option_error_text(*e), "the argument ('%value%') for option '--wait' is invalid");

  e = config_error("need = 1\n%canonical_option% = 1\n");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(option_error_text(*e), "unrecognised option '%canonical_option%'");

  e = command_line_error({"--need", "1", "--wait", "%canonical_option%%value%%option%"});
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(option_error_text(*e), "the argument ('%canonical_option%%value%%option%') for option '--wait' is invalid");

  e = command_line_error({"--%original_token%"});
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(option_error_text(*e), "unrecognised option '--%original_token%'");
}

}  // namespace
}  // namespace gn::test
