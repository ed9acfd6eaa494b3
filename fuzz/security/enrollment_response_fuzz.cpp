// EnrollmentResponse::decode: never crashes; accepted input round-trips byte for byte.
#include <cstddef>
#include <cstdint>

#include "fuzz_check.hpp"
#include "peat/security/enrollment.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  peat::ByteView in(data, size);
  auto resp = peat::security::EnrollmentResponse::decode(in);
  if (!resp) return 0;
  auto again = resp->encode();
  PEAT_FUZZ_CHECK(again.ok());
  PEAT_FUZZ_CHECK(peat::Bytes(in.begin(), in.end()) == *again);
  return 0;
}
