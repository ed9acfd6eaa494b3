// Revocation::decode, EncryptedData::from_bytes and EncryptedCellMessage::decode: never crash;
// accepted input round-trips.
#include <cstddef>
#include <cstdint>

#include "fuzz_check.hpp"
#include "peat/security/aead.hpp"
#include "peat/security/group_key.hpp"
#include "peat/security/trust.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace peat::security;
  peat::ByteView in(data, size);
  peat::Bytes input(in.begin(), in.end());
  if (auto r = Revocation::decode(in)) {
    auto again = r->encode();
    PEAT_FUZZ_CHECK(again.ok() && *again == input);
    (void)r->verify();
  }
  if (auto e = EncryptedData::from_bytes(in)) {
    PEAT_FUZZ_CHECK(e->to_bytes() == input);
    SymmetricKey key{SecretKey{}};
    (void)key.decrypt(*e);
  }
  if (auto m = EncryptedCellMessage::decode(in)) {
    auto again = m->encode();
    PEAT_FUZZ_CHECK(again.ok() && *again == input);
    GroupKey key("cell", SecretKey{}, 1, 0);
    (void)key.decrypt(*m);
  }
  return 0;
}
