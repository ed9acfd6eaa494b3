// Static peer TOML files: parse must never crash; accepted configs load as peers.
#include <cstdint>
#include <string_view>

#include "peat/discovery/static_discovery.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = peat::discovery::parse_static_config(text, "fuzz.toml");
  if (!config) return 0;
  for (const auto& p : config->peers) (void)peat::discovery::to_peer_info(p, peat::Instant{});
  (void)peat::discovery::parse_static_config(peat::discovery::to_toml(*config), "again.toml");
  return 0;
}
