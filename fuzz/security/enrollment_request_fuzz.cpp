// EnrollmentRequest::decode: never crashes; accepted input round-trips byte for byte.
#include <cstddef>
#include <cstdint>

#include "fuzz_check.hpp"
#include "peat/security/enrollment.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  peat::ByteView in(data, size);
  auto req = peat::security::EnrollmentRequest::decode(in);
  if (!req) return 0;
  auto again = req->encode();
  PEAT_FUZZ_CHECK(again.ok());
  PEAT_FUZZ_CHECK(peat::Bytes(in.begin(), in.end()) == *again);
  (void)req->verify_signature();
  return 0;
}
