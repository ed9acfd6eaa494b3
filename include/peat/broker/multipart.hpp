// multipart/form-data (RFC 7578) decoding for uploads such as OTA firmware.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "peat/common/result.hpp"

namespace peat::broker {

struct FormPart {
  std::string content;
  std::string filename;  // empty when the part is not a file
};

// Parses `body` given the request's Content-Type header. Error code "BAD_MULTIPART" with the
// reason; duplicate field names keep the first part.
Result<std::map<std::string, FormPart>> parse_multipart(std::string_view content_type,
                                                        std::string_view body);

}  // namespace peat::broker
