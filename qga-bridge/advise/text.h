// Text that leaves advise: strings from libvirt or the guest made safe for a terminal, and
// words made safe for the shell commands advise prints.
#pragma once

#include <string>

#include "neutralise.h"

namespace gn::advise {

// Strings from libvirt or a guest go out through the bridge's one neutraliser.
using gn::neutralise;
// A word for a shell command line: as is when it is plain, else single-quoted.
std::string shell_word(const std::string& s);

}  // namespace gn::advise
