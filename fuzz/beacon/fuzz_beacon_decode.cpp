// libFuzzer: beacon JSON decoding and observer ingestion must never crash; geohash decoding of
// arbitrary text must never crash either.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "peat/beacon/geohash.hpp"
#include "peat/beacon/observer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const peat::ByteView bytes(data, size);
  peat::beacon::BeaconObserver observer({"self", "9q8yyk8", false, 30, 16});
  (void)observer.ingest(bytes, 1'700'000'000);
  if (auto beacon = peat::beacon::beacon_from_json(peat::as_chars(bytes))) {
    auto again = peat::beacon::beacon_from_json(peat::beacon::to_json(beacon.value()));
    if (!again || again.value().node_id != beacon.value().node_id) std::abort();
  }
  (void)peat::beacon::geohash::neighbors(peat::as_chars(bytes).substr(0, 16));
  return 0;
}
