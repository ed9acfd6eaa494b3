// Text parsers: callsigns, device ids, public keys, tier/policy names, base64 formation secrets.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.hpp"
#include "peat/security/callsign.hpp"
#include "peat/security/certificate.hpp"
#include "peat/security/formation_key.hpp"
#include "peat/security/genesis.hpp"
#include "peat/security/keypair.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace peat::security;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto cs = Callsign::parse(text)) {
    auto back = Callsign::parse(cs->to_string());
    PEAT_FUZZ_CHECK(back.ok() && *back == *cs);
    PEAT_FUZZ_CHECK(cs->to_string().size() <= Callsign::kMaxLength);
  }
  if (auto id = DeviceId::from_hex(text)) {
    PEAT_FUZZ_CHECK(id->to_hex().size() == 32);
  }
  (void)PublicKey::from_hex(text);
  (void)parse_tier(text);
  (void)parse_policy(text);
  (void)FormationKey::from_base64("fuzz", text);
  return 0;
}
