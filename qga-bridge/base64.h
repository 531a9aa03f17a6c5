// Base64 (RFC 4648, with padding) as qemu-ga encodes guest-exec output.
#pragma once

#include <string>
#include <string_view>

#include "result.h"

namespace gn::qga {

Result<std::string> base64_decode(std::string_view in);
std::string base64_encode(std::string_view in);

}  // namespace gn::qga
