// The text of a command-line or config-file error from Boost.Program_options, made safely.
//
// Boost's own what() fills its message template by replacing each "%placeholder%" until none is
// left. When the text being put in holds its own placeholder (an option value "%value%", a config
// key "%canonical_option%"), that never ends: `guest-nettune plan --netdev-budget %value%` spun
// for ever (found by tests/fuzz/fuzz_config). Every parser of options, in the guest and on the
// host, reports its errors through option_error_text() instead.
#pragma once

#include <string>

namespace boost::program_options {
class error;
}

namespace gn {

// The message Boost's what() gives, except that the template is filled in one pass: text that
// came from the user or the config file is never searched for placeholders again.
std::string option_error_text(const boost::program_options::error& e);

}  // namespace gn
