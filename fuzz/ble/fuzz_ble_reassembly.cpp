// Feeds arbitrary GATT values to the BLE reassembler: input = repeated [len u8][value] records;
// the low bits of len also advance the clock. Checks the bounds hold and never crashes.
// Then checks that fragmenting the whole input and reassembling it gives it back.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "peat/transport/ble/fragment.hpp"

using namespace peat::transport::ble;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ReassemblyLimits limits;
  limits.max_message_size = 1024;
  limits.max_pending = 3;
  limits.timeout = std::chrono::milliseconds(100);
  Reassembler r(limits);
  peat::Instant now{};
  std::size_t pos = 0;
  for (int guard = 0; guard < 4096 && pos < size; ++guard) {
    const std::size_t len = std::min<std::size_t>(data[pos], size - pos - 1);
    now += std::chrono::milliseconds(data[pos] & 0x0F);
    peat::ByteView value(data + pos + 1, len);
    pos += 1 + len;
    r.expire(now);
    auto result = r.push(value, now);
    if (result.ok() && result.value() && result.value()->data.size() > limits.max_message_size) {
      std::abort();
    }
    if (r.pending() > limits.max_pending) std::abort();
  }

  const std::uint16_t mtu = static_cast<std::uint16_t>(23 + (size % 230));
  auto frags = fragment(peat::transport::Channel::kBlobs, 7, peat::ByteView(data, size), mtu);
  if (!frags.ok()) return 0;
  Reassembler whole(ReassemblyLimits{.max_message_size = size, .max_pending = 1});
  for (std::size_t i = 0; i < frags->size(); ++i) {
    if ((*frags)[i].size() > mtu - kAttHeaderSize) std::abort();
    auto m = whole.push((*frags)[i], now);
    if (!m.ok()) std::abort();
    const bool last = i + 1 == frags->size();
    if (m.value().has_value() != last) std::abort();
    if (last && m.value()->data != peat::Bytes(data, data + size)) std::abort();
  }
  return 0;
}
