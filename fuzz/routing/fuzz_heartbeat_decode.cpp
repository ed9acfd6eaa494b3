// libFuzzer: mesh heartbeats (the membership protocol's only message) must decode safely, and a
// membership fed arbitrary heartbeats must keep working.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "peat/topology/membership.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const peat::ByteView bytes(data, size);
  if (auto hb = peat::topology::decode_heartbeat(bytes)) {
    auto again = peat::topology::decode_heartbeat(peat::topology::encode_heartbeat(hb.value()));
    if (!again || again->node_id != hb->node_id || again->seq != hb->seq) std::abort();
  }
  peat::topology::MembershipConfig config;
  config.node_id = "a";
  config.group = "g";
  config.roster = {"b", "c"};
  peat::topology::MeshMembership m(config);
  const peat::Instant now{};
  (void)m.on_heartbeat("b", bytes, now);
  (void)m.evaluate(now);
  (void)m.topology_state();
  return 0;
}
