// EndpointSlice / EndpointSliceList JSON from the API server: never crash.
#include <cstdint>
#include <string_view>

#include "peat/discovery/kubernetes_discovery.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const peat::discovery::KubernetesDiscoveryConfig config;
  (void)peat::discovery::extract_peers_from_endpoint_slice(text, config, peat::Instant{});
  auto peers = peat::discovery::peers_from_endpoint_slice_list(text, config, peat::Instant{});
  if (peers) (void)peat::discovery::diff_peer_maps({}, *peers);
  return 0;
}
