// Stream drivers: enrollment server/client framing and both formation roles fed arbitrary
// bytes in arbitrary pieces. Never crash; never answer twice.
#include <cstddef>
#include <cstdint>

#include "fuzz_check.hpp"
#include "peat/common/random.hpp"
#include "peat/security/handshake.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace peat::security;
  peat::ByteView in(data, size);
  static const DeviceKeypair authority = *DeviceKeypair::from_secret_bytes(peat::Bytes(32, 1));
  StaticEnrollmentService service(authority, "MESH", {});
  service.add_token(peat::as_bytes("tok"), MeshTier::Edge, permissions::kRelay);
  if (auto reply = serve_enrollment(service, in, 1'700'000'000'000ULL)) {
    PEAT_FUZZ_CHECK(parse_enrollment_response_frame(*reply).ok());
  }
  (void)parse_enrollment_response_frame(in);

  // First byte: chunk size for the formation drivers.
  if (size == 0) return 0;
  std::size_t chunk = data[0] % 16 + 1;
  peat::ByteView rest = in.subspan(1);
  FormationKey key("alpha", SecretKey{});
  const peat::Instant t0{};
  FormationConnector connector(key, t0);
  int answers = 0;
  for (std::size_t i = 0; i < rest.size(); i += chunk) {
    auto out = connector.on_data(rest.subspan(i, std::min(chunk, rest.size() - i)), t0);
    if (!out) break;
    if (out->send) ++answers;
  }
  PEAT_FUZZ_CHECK(answers <= 1);
  peat::SeededRng rng(1);
  auto acceptor = FormationAcceptor::start(key, rng, t0);
  PEAT_FUZZ_CHECK(acceptor.ok());
  std::optional<FormationAuthResult> verdict;
  for (std::size_t i = 0; i < rest.size(); i += chunk) {
    auto r = acceptor->on_data(rest.subspan(i, std::min(chunk, rest.size() - i)), t0);
    if (!r) break;
    if (verdict && *r) PEAT_FUZZ_CHECK(**r == *verdict);  // a decision never changes
    if (*r) verdict = *r;
  }
  return 0;
}
