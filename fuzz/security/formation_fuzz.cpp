// Formation challenge / response / verdict decoders: never crash; accepted input round-trips.
#include <cstddef>
#include <cstdint>

#include "fuzz_check.hpp"
#include "peat/security/formation_key.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace peat::security;
  peat::ByteView in(data, size);
  peat::Bytes input(in.begin(), in.end());
  if (auto ch = FormationChallenge::decode(in)) {
    auto again = ch->encode();
    PEAT_FUZZ_CHECK(again.ok() && *again == input);
  }
  if (auto resp = FormationChallengeResponse::decode(in)) {
    PEAT_FUZZ_CHECK(resp->encode() == input);
    FormationKey key("fuzz", SecretKey{});
    FormationNonce nonce{};
    (void)key.verify_response(nonce, resp->response);
  }
  if (size > 0) {
    auto verdict = formation_auth_result_from_byte(data[0]);
    PEAT_FUZZ_CHECK((verdict == FormationAuthResult::Accepted) == (data[0] == 0x01));
  }
  return 0;
}
