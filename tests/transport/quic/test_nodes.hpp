// Test helpers: QuicTransport nodes on 127.0.0.1 sharing one IoLoop, every wait bounded.
#pragma once

#include <gtest/gtest.h>
#include <sodium.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "peat/runtime/io_loop.hpp"
#include "peat/transport/quic/quic_transport.hpp"

namespace peat::transport::quic::quic_test {

using namespace std::chrono_literals;
constexpr auto kLimit = 10s;

inline Identity make_identity(std::uint8_t tag) {
  Identity id;
  id.seed.fill(tag);
  std::array<std::uint8_t, 64> secret{};
  EXPECT_EQ(crypto_sign_seed_keypair(id.public_key.data(), secret.data(), id.seed.data()), 0);
  return id;
}

struct Disconnect {
  PeerId peer;
  DisconnectReason reason;
  std::string detail;
};

struct Node {
  SeededRng rng;
  std::unique_ptr<QuicTransport> transport;
  std::vector<PeerId> connected;
  std::vector<Disconnect> disconnected;
  std::map<Channel, std::vector<Bytes>> messages;
  std::vector<Bytes> datagrams;
  int writable = 0;

  Node(runtime::IoLoop& loop, std::uint8_t tag,
       const std::function<void(QuicTransportConfig&)>& tweak = {})
      : rng(tag) {
    QuicTransportConfig config;
    config.identity = make_identity(tag);
    config.bind_host = "127.0.0.1";
    if (tweak) tweak(config);
    transport = std::make_unique<QuicTransport>(loop, std::move(config), rng);
    TransportEvents ev;
    ev.on_connected = [this](const PeerId& p) { connected.push_back(p); };
    ev.on_disconnected = [this](const PeerId& p, DisconnectReason r, const std::string& d) {
      disconnected.push_back({p, r, d});
    };
    ev.on_message = [this](const PeerId&, Channel c, Bytes b) {
      messages[c].push_back(std::move(b));
    };
    ev.on_datagram = [this](const PeerId&, Bytes b) { datagrams.push_back(std::move(b)); };
    ev.on_writable = [this](const PeerId&) { ++writable; };
    transport->set_events(std::move(ev));
    const Status started = transport->start();
    EXPECT_TRUE(started.ok()) << (started.ok() ? "" : started.error().to_string());
  }
  const PeerId& id() const { return transport->local_peer_id(); }
  std::vector<PeerAddress> address() const { return {{"127.0.0.1", *transport->local_port()}}; }
  std::size_t count(Channel c) const {
    auto it = messages.find(c);
    return it == messages.end() ? 0 : it->second.size();
  }
};

inline Bytes pattern(std::size_t n, std::uint8_t seed) {
  Bytes out(n);
  std::uint32_t x = seed * 2654435761u + 1;
  for (auto& b : out) {
    x = x * 1664525u + 1013904223u;
    b = static_cast<std::uint8_t>(x >> 24);
  }
  return out;
}

class QuicTransportTest : public ::testing::Test {
 protected:
  runtime::IoLoop loop;

  bool connect(Node& a, Node& b) {
    a.transport->connect(b.id(), b.address());
    return loop.run_until(
        [&] { return a.transport->is_connected(b.id()) && b.transport->is_connected(a.id()); },
        kLimit);
  }
};

}  // namespace peat::transport::quic::quic_test
