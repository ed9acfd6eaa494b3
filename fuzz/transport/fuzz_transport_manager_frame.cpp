// Feeds arbitrary frames, as a peer would send them, into a TransportManager through a scripted
// link, interleaved with virtual time, sends, link drops and reconnects.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "peat/sim/sim_loop.hpp"
#include "peat/transport/transport_manager.hpp"

using namespace peat;
using namespace peat::transport;

namespace {

class ScriptedLink final : public Transport {
 public:
  const Capabilities& capabilities() const override { return caps_; }
  void set_events(TransportEvents events) override { events_ = std::move(events); }
  Status start() override { return {}; }
  void stop() override {}
  void connect(const PeerId& peer, const std::vector<PeerAddress>&) override {
    connected_ = true;
    if (events_.on_connected) events_.on_connected(peer);
  }
  void disconnect(const PeerId&) override { connected_ = false; }
  bool is_connected(const PeerId&) const override { return connected_; }
  std::vector<PeerId> connected_peers() const override { return {}; }
  Status send(const PeerId&, Channel, ByteView) override {
    return connected_ ? Status{} : make_error("NOT_CONNECTED", "");
  }
  Status send_datagram(const PeerId&, ByteView) override { return make_error("UNSUPPORTED", ""); }
  std::optional<ConnectionHealth> health(const PeerId&) const override { return std::nullopt; }

  TransportEvents events_;
  bool connected_ = false;

 private:
  Capabilities caps_{};
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  sim::SimLoop loop;
  SeededRng rng(1);
  TransportManagerConfig config;
  config.max_reorder = 1024;
  ScriptedLink link;  // outlives the manager, as the manager requires
  TransportManager manager(loop, rng, config);
  (void)manager.add_link("link", link);
  std::uint64_t delivered = 0;
  TransportManagerEvents events;
  events.on_message = [&](const PeerId&, Channel, Bytes) { ++delivered; };
  manager.set_events(events);
  manager.start();
  manager.add_peer("peer", {{"link", {}}});
  (void)manager.send("peer", Channel::kSync, as_bytes("hello"));

  // Input: a sequence of [op u8][len u8][len bytes]; op selects what happens before the frame.
  std::size_t at = 0;
  while (at + 2 <= size) {
    const std::uint8_t op = data[at];
    std::size_t len = std::min<std::size_t>(data[at + 1], size - at - 2);
    ByteView frame(data + at + 2, len);
    at += 2 + len;
    switch (op % 8) {
      case 0:
        loop.run_for(std::chrono::milliseconds(op));
        break;
      case 1:
        (void)manager.send("peer", Channel::kBlobs, frame);
        break;
      case 2:
        link.connected_ = false;
        if (link.events_.on_disconnected) {
          link.events_.on_disconnected("peer", DisconnectReason::kTimeout, "");
        }
        break;
      default:
        break;
    }
    if (link.events_.on_message)
      link.events_.on_message("peer", Channel::kSync, Bytes(frame.begin(), frame.end()));
  }
  loop.run_for(std::chrono::seconds(5));
  if (manager.stats().messages_delivered != delivered) std::abort();
  return 0;
}
