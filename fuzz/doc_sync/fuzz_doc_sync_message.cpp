// Sync message, Bloom filter and sync state decoders: no crash, no hang, and a decoded message
// re-encodes to bytes that decode to the same message, and an empty document receives it and
// answers without crashing.
#include <cstdint>
#include <cstdlib>

#include "peat/doc/sync/message.hpp"
#include "peat/doc/sync/state.hpp"
#include "peat/doc/sync/sync.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace peat::doc::sync;
  const peat::ByteView input(data, size);
  auto message = decode_message(input);
  if (message.ok()) {
    const peat::Bytes once = encode_message(*message);
    auto again = decode_message(once);
    if (!again.ok() || encode_message(*again) != once) std::abort();
    for (const auto& have : message->have) {
      for (const auto& h : have.last_sync) (void)have.bloom.contains(h);
    }
    peat::doc::Document doc(peat::Bytes{0x01, 0x02});
    State state;
    (void)receive_message(doc, state, *message);
    (void)generate_message(doc, state);
  }
  auto state = decode_state(input);
  if (state.ok()) {
    auto again = decode_state(encode_state(*state));
    if (!again.ok() || again->shared_heads != state->shared_heads) std::abort();
  }
  auto bloom = BloomFilter::decode(input);
  if (bloom.ok()) {
    peat::doc::ChangeHash h{};
    for (std::size_t i = 0; i < h.size() && i < size; ++i) h[i] = data[i];
    (void)bloom->contains(h);
  }
  return 0;
}
