// HTTP responses (as read from the API server connection): never crash or over-read.
#include <cstdint>
#include <string_view>

#include "discovery/http_response.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)peat::discovery::http::parse_response(
      std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
