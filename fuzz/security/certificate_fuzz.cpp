// MeshCertificate::decode: never crashes; what it accepts re-encodes to the same bytes.
#include <cstddef>
#include <cstdint>

#include "fuzz_check.hpp"
#include "peat/security/certificate.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  peat::ByteView in(data, size);
  auto cert = peat::security::MeshCertificate::decode(in);
  if (!cert) return 0;
  auto again = cert->encode();
  PEAT_FUZZ_CHECK(again.ok());
  PEAT_FUZZ_CHECK(peat::Bytes(in.begin(), in.end()) == *again);
  (void)cert->verify();
  (void)cert->is_valid(1'700'000'000'000ULL);
  return 0;
}
