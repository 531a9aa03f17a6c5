// Text that leaves advise: strings from libvirt or the guest made safe for a terminal, and
// words made safe for the shell commands advise prints.
#pragma once

#include <string>

namespace gn::advise {

// Control bytes, DEL, backslash and non-ASCII bytes become \xNN; long strings end in "...".
std::string printable(const std::string& s, size_t max = 256);
// A word for a shell command line: as is when it is plain, else single-quoted.
std::string shell_word(const std::string& s);

}  // namespace gn::advise
