// libFuzzer: DataPacket JSON decoding must never crash; accepted packets must round-trip.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "peat/routing/packet.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto packet = peat::routing::decode_packet(peat::ByteView(data, size));
  if (packet) {
    auto again = peat::routing::packet_from_json(peat::routing::to_json(packet.value()));
    if (!again || !(again.value() == packet.value())) std::abort();
  }
  return 0;
}
