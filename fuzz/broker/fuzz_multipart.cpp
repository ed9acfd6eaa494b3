// multipart/form-data decoding of arbitrary bodies: must return a value or an error, never crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "peat/broker/multipart.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto parts = peat::broker::parse_multipart("multipart/form-data; boundary=B", body);
  if (parts.ok()) {
    for (const auto& [name, part] : *parts) (void)part.content.size();
  }
  return 0;
}
