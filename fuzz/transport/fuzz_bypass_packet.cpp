// Feeds arbitrary bytes to the bypass header decoder and to Decoders in plain and authenticated
// policies; checks that whatever is accepted re-encodes consistently.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "peat/transport/bypass_codec.hpp"

using namespace peat::transport::bypass;

namespace {

struct Fixture {
  Fixture() {
    std::array<std::uint8_t, 32> seed{};
    seed.fill(1);
    auto [pk, sk] = keypair_from_seed(seed);
    SenderId id{};
    id.fill(0x34);
    SymmetricKey key{};
    key.fill(0x42);
    secure.require_authentication = true;
    secure.encryption_key = key;
    secure.peer_keys[id] = pk;
    plain.legacy_replay_window = 64;
  }
  SecurityPolicy plain;
  SecurityPolicy secure;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Fixture fixture;
  peat::ByteView input(data, size);
  auto header = decode_header(input);
  if (header.ok()) {
    peat::Bytes again;
    encode_header(*header, again);
    if (!std::equal(again.begin(), again.end(), data)) std::abort();
  }
  Decoder plain(fixture.plain);
  auto m = plain.decode("127.0.0.1", input, 1'700'000'000'000ULL);
  if (m.ok() && !m->sender && m->payload.size() + kHeaderSize != size) std::abort();
  Decoder secure(fixture.secure);
  (void)secure.decode("127.0.0.1", input, 1'700'000'000'000ULL);
  return 0;
}
