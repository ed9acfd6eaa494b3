// Private: one blocking HTTPS GET over a plain socket with GnuTLS (CA-verified, host checked).
#pragma once

#include <filesystem>
#include <string>

#include "http_response.hpp"
#include "peat/common/clock.hpp"

namespace peat::discovery::http {

struct GetRequest {
  std::string host;  // IP literal or DNS name; the certificate must match it
  std::uint16_t port = 443;
  std::string path;
  std::string bearer_token;  // empty: no Authorization header
  std::filesystem::path ca_file;
  Duration timeout;  // connect, handshake and each read
};

// "HTTPS_ERROR" for connect/TLS/verification failures, "HTTP_BAD_RESPONSE" for bad responses.
Result<Response> https_get(const GetRequest& request);

}  // namespace peat::discovery::http
