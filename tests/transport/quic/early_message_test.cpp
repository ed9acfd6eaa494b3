// Messages sent at the very start of a connection: from inside on_connected and right after it,
// on both sides at once, through simultaneous dials and a redial that replaces a connection.
// Every reliable message must arrive exactly once, in order per channel, after on_connected.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "peat/transport/quic/quic_transport.hpp"
#include "test_nodes.hpp"

namespace peat::transport::quic {
namespace {

using namespace quic_test;

constexpr int kBurst = 40;  // messages per channel sent inside on_connected, and as many after

// A node that, on every on_connected, sends a burst on two channels from inside the callback
// and another burst from a task posted right after it. Messages read "<sender>:<epoch>:<i>".
struct Talker {
  runtime::IoLoop& loop;
  std::string name;
  SeededRng rng;
  std::unique_ptr<QuicTransport> transport;
  int epoch = 0;  // on_connected count
  bool up = false;
  int before_connected = 0;  // messages delivered while the peer was not reported connected
  int send_failures = 0;
  std::vector<Disconnect> disconnected;
  std::map<Channel, std::vector<std::string>> got;

  // `run` seeds the connection ids: two runs of one identity must not pick the same ones.
  Talker(runtime::IoLoop& l, std::string n, std::uint8_t tag, std::uint64_t run = 0)
      : loop(l), name(std::move(n)), rng(tag + 1000 * run) {
    QuicTransportConfig config;
    config.identity = make_identity(tag);
    config.bind_host = "127.0.0.1";
    transport = std::make_unique<QuicTransport>(loop, std::move(config), rng);
    TransportEvents ev;
    ev.on_connected = [this](const PeerId& p) {
      ++epoch;
      up = true;
      burst(p, epoch, 0);
      loop.post([this, p, e = epoch] { burst(p, e, kBurst); });
    };
    ev.on_disconnected = [this](const PeerId& p, DisconnectReason r, const std::string& d) {
      up = false;
      disconnected.push_back({p, r, d});
    };
    ev.on_message = [this](const PeerId&, Channel c, Bytes b) {
      if (!up) ++before_connected;
      got[c].emplace_back(b.begin(), b.end());
    };
    transport->set_events(std::move(ev));
    EXPECT_TRUE(transport->start().ok());
  }

  void burst(const PeerId& peer, int e, int first) {
    for (int i = first; i < first + kBurst; ++i) {
      const std::string text = name + ":" + std::to_string(e) + ":" + std::to_string(i);
      for (Channel c : {Channel::kSync, Channel::kControl}) {
        if (!transport->send(peer, c, to_bytes(text)).ok()) ++send_failures;
      }
    }
  }

  const PeerId& id() const { return transport->local_peer_id(); }
  std::vector<PeerAddress> address() const { return {{"127.0.0.1", *transport->local_port()}}; }
  std::size_t count(Channel c) const {
    auto it = got.find(c);
    return it == got.end() ? 0 : it->second.size();
  }
};

std::vector<std::string> expected(const std::string& sender, int e) {
  std::vector<std::string> out;
  for (int i = 0; i < 2 * kBurst; ++i) {
    out.push_back(sender + ":" + std::to_string(e) + ":" + std::to_string(i));
  }
  return out;
}

class QuicEarlyMessageTest : public ::testing::Test {
 protected:
  runtime::IoLoop loop;

  // Waits until `rx` holds `n` messages on both channels, then a little longer for extras.
  bool received(const Talker& rx, std::size_t n) {
    const bool ok = loop.run_until(
        [&] { return rx.count(Channel::kSync) >= n && rx.count(Channel::kControl) >= n; }, kLimit);
    loop.run_for(50ms);
    return ok;
  }

  void expect_exactly(const Talker& rx, const std::string& sender, int e) {
    for (Channel c : {Channel::kSync, Channel::kControl}) {
      auto it = rx.got.find(c);
      ASSERT_NE(it, rx.got.end());
      EXPECT_EQ(it->second, expected(sender, e)) << rx.name << " channel " << int(c);
    }
    EXPECT_EQ(rx.before_connected, 0) << rx.name;
  }
};

TEST_F(QuicEarlyMessageTest, BothSidesSendFromInsideOnConnectedAndRightAfter) {
  Talker a(loop, "a", 1);
  Talker b(loop, "b", 2);
  a.transport->connect(b.id(), b.address());
  ASSERT_TRUE(received(a, 2 * kBurst));
  ASSERT_TRUE(received(b, 2 * kBurst));
  expect_exactly(a, "b", 1);
  expect_exactly(b, "a", 1);
  EXPECT_EQ(a.epoch, 1);
  EXPECT_EQ(b.epoch, 1);
  EXPECT_EQ(a.send_failures + b.send_failures, 0);
  EXPECT_TRUE(a.disconnected.empty());
  EXPECT_TRUE(b.disconnected.empty());
}

// Both dial at once, many times over, with either node holding the smaller peer id, and each
// sends at once on its first on_connected, whichever of the two connections that is.
TEST_F(QuicEarlyMessageTest, SimultaneousDialLosesNoMessage) {
  for (std::uint8_t round = 0; round < 12; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    Talker a(loop, "a", static_cast<std::uint8_t>(10 + 2 * round));
    Talker b(loop, "b", static_cast<std::uint8_t>(11 + 2 * round));
    if (round % 2 == 0) {
      a.transport->connect(b.id(), b.address());
      b.transport->connect(a.id(), a.address());
    } else {
      b.transport->connect(a.id(), a.address());
      a.transport->connect(b.id(), b.address());
    }
    ASSERT_TRUE(received(a, 2 * kBurst));
    ASSERT_TRUE(received(b, 2 * kBurst));
    loop.run_for(100ms);  // any duplicate is closed by now
    expect_exactly(a, "b", 1);
    expect_exactly(b, "a", 1);
    EXPECT_EQ(a.epoch, 1);
    EXPECT_EQ(b.epoch, 1);
    EXPECT_EQ(a.send_failures + b.send_failures, 0);
    EXPECT_TRUE(a.disconnected.empty());
    EXPECT_TRUE(b.disconnected.empty());
    EXPECT_TRUE(a.transport->is_connected(b.id()));
    EXPECT_TRUE(b.transport->is_connected(a.id()));
  }
}

// A second run of `a` (same identity, new socket) dials `b` while the first run's connection is
// up: the new connection replaces the old one, and the burst each side sends on its
// on_connected for the new connection arrives whole, on the new connection.
TEST_F(QuicEarlyMessageTest, RedialReplacingAConnectionLosesNoMessage) {
  Talker b(loop, "b", 2);
  Talker a(loop, "a", 1);
  a.transport->connect(b.id(), b.address());
  ASSERT_TRUE(received(b, 2 * kBurst));
  ASSERT_TRUE(received(a, 2 * kBurst));
  b.got.clear();
  Talker again(loop, "a2", 1, 1);
  again.transport->connect(b.id(), b.address());
  ASSERT_TRUE(received(b, 2 * kBurst));
  ASSERT_TRUE(received(again, 2 * kBurst));
  expect_exactly(again, "b", 2);
  expect_exactly(b, "a2", 1);
  EXPECT_EQ(b.epoch, 2);
  ASSERT_EQ(b.disconnected.size(), 1u);
  EXPECT_NE(b.disconnected[0].detail.find("new connection"), std::string::npos);
  EXPECT_TRUE(again.disconnected.empty());
  EXPECT_EQ(again.send_failures + b.send_failures, 0);
}

}  // namespace
}  // namespace peat::transport::quic
