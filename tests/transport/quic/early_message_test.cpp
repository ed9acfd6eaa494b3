// Messages sent at the very start of a connection: from inside on_connected and right after it,
// on both sides at once, through simultaneous dials and a redial that replaces a connection.
// Every reliable message must arrive exactly once, in order per channel, after on_connected.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

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

// A UDP relay on loopback that holds what the client sends until `open_at`, then forwards both
// ways: a dial through it reaches the server late, like one whose first Initial was lost.
class DelayRelay {
 public:
  DelayRelay(std::uint16_t server_port, Instant open_at) : open_at_(open_at) {
    client_side_ = bound_socket();
    server_side_ = bound_socket();
    server_.sin_family = AF_INET;
    server_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    server_.sin_port = htons(server_port);
  }
  ~DelayRelay() {
    close(client_side_);
    close(server_side_);
  }
  std::uint16_t port() const {
    sockaddr_in sin{};
    socklen_t len = sizeof(sin);
    getsockname(client_side_, reinterpret_cast<sockaddr*>(&sin), &len);
    return ntohs(sin.sin_port);
  }
  void pump() {
    std::vector<std::uint8_t> buf(65536);
    for (int i = 0; i < 256; ++i) {
      socklen_t len = sizeof(client_);
      const ssize_t n = recvfrom(client_side_, buf.data(), buf.size(), 0,
                                 reinterpret_cast<sockaddr*>(&client_), &len);
      if (n <= 0) break;
      held_.emplace_back(buf.begin(), buf.begin() + n);
    }
    if (Instant::clock::now() >= open_at_) {
      for (const Bytes& d : held_) {
        sendto(server_side_, d.data(), d.size(), 0, reinterpret_cast<const sockaddr*>(&server_),
               sizeof(server_));
      }
      held_.clear();
    }
    for (int i = 0; i < 256; ++i) {
      const ssize_t n = recv(server_side_, buf.data(), buf.size(), 0);
      if (n <= 0) break;
      sendto(client_side_, buf.data(), static_cast<std::size_t>(n), 0,
             reinterpret_cast<const sockaddr*>(&client_), sizeof(client_));
    }
  }

 private:
  static int bound_socket() {
    const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof(sin)), 0);
    return fd;
  }
  Instant open_at_;
  int client_side_ = -1;
  int server_side_ = -1;
  sockaddr_in server_{};
  sockaddr_in client_{};
  std::vector<Bytes> held_;
};

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

// The dial that must win (from the smaller id) reaches the peer late, so the peer's own dial
// completes first and it reports it and sends its bursts on it. The smaller side holds that
// connection (its own dial is under way) with the messages, delivers them after its
// on_connected, and the larger side lets the duplicate drain before closing it.
TEST_F(QuicEarlyMessageTest, LateWinningDialLosesNoMessage) {
  std::uint8_t small_tag = 1;
  std::uint8_t large_tag = 2;
  if (peer_id_from_public_key(make_identity(1).public_key) >
      peer_id_from_public_key(make_identity(2).public_key)) {
    std::swap(small_tag, large_tag);
  }
  Talker s(loop, "s", small_tag);
  Talker l(loop, "l", large_tag);
  DelayRelay relay(*l.transport->local_port(), Instant::clock::now() + 300ms);
  s.transport->connect(l.id(), {{"127.0.0.1", relay.port()}});
  l.transport->connect(s.id(), s.address());
  auto pumped = [&](const std::function<bool()>& done, Duration limit) {
    return loop.run_until(
        [&] {
          relay.pump();
          return done();
        },
        limit);
  };
  ASSERT_TRUE(pumped(
      [&] {
        return s.count(Channel::kSync) >= 2 * kBurst && s.count(Channel::kControl) >= 2 * kBurst &&
               l.count(Channel::kSync) >= 2 * kBurst && l.count(Channel::kControl) >= 2 * kBurst;
      },
      kLimit));
  pumped([] { return false; }, 300ms);  // the duplicate drains and closes meanwhile
  expect_exactly(s, "l", 1);
  expect_exactly(l, "s", 1);
  EXPECT_EQ(s.epoch, 1);
  EXPECT_EQ(l.epoch, 1);
  EXPECT_TRUE(s.disconnected.empty());
  EXPECT_TRUE(l.disconnected.empty());
  EXPECT_EQ(s.send_failures + l.send_failures, 0);
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
