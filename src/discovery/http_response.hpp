// Private: parses a whole HTTP/1.x response (read until the server closed the connection).
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "peat/common/result.hpp"

namespace peat::discovery::http {

struct Response {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lowercased
  std::string body;
};

// Body by Content-Length, chunked transfer coding, or to the end. "HTTP_BAD_RESPONSE" on a bad
// status line or header, a short body, or broken chunking.
Result<Response> parse_response(std::string_view raw);

}  // namespace peat::discovery::http
