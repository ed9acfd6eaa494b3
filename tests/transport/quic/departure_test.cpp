// Peer departure: a node that stops or disconnects must be seen as gone by its peers at once,
// not after the QUIC idle timeout. Every test uses a long idle timeout and bounds its wait by it,
// so a regression fails (with kIdleTimeout or a timeout) instead of hanging.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <vector>

#include "peat/transport/quic/connection.hpp"
#include "peat/transport/quic/quic_transport.hpp"
#include "test_nodes.hpp"

namespace peat::transport::quic {
namespace {

using namespace quic_test;

constexpr auto kLongIdle = 60s;
// Waits for a departure end well before this; only a regression runs into it.
constexpr auto kDepartureLimit = kLongIdle + 5s;

void long_idle(QuicTransportConfig& c) {
  c.settings.idle_timeout = kLongIdle;
}

class QuicDepartureTest : public QuicTransportTest {
 protected:
  bool gone(Node& n) {
    return loop.run_until([&] { return !n.disconnected.empty(); }, kDepartureLimit);
  }
};

TEST_F(QuicDepartureTest, StopIsSeenAsRemoteCloseByTheAcceptingPeer) {
  Node a(loop, 1, long_idle);
  Node b(loop, 2, long_idle);
  ASSERT_TRUE(connect(a, b));
  a.transport->stop();
  ASSERT_TRUE(gone(b));
  EXPECT_EQ(b.disconnected[0].reason, DisconnectReason::kRemoteClosed) << b.disconnected[0].detail;
  EXPECT_EQ(b.disconnected[0].peer, a.id());
  EXPECT_NE(b.disconnected[0].detail.find("shutdown"), std::string::npos);
  EXPECT_FALSE(b.transport->is_connected(a.id()));
  EXPECT_TRUE(a.disconnected.empty());  // stop() reports nothing locally
}

TEST_F(QuicDepartureTest, StopIsSeenAsRemoteCloseByTheDiallingPeer) {
  Node a(loop, 1, long_idle);
  Node b(loop, 2, long_idle);
  ASSERT_TRUE(connect(b, a));
  a.transport->stop();
  ASSERT_TRUE(gone(b));
  EXPECT_EQ(b.disconnected[0].reason, DisconnectReason::kRemoteClosed) << b.disconnected[0].detail;
}

TEST_F(QuicDepartureTest, DisconnectIsSeenAsRemoteClose) {
  Node a(loop, 1, long_idle);
  Node b(loop, 2, long_idle);
  ASSERT_TRUE(connect(a, b));
  a.transport->disconnect(b.id());
  ASSERT_TRUE(gone(b));
  EXPECT_EQ(b.disconnected[0].reason, DisconnectReason::kRemoteClosed) << b.disconnected[0].detail;
  ASSERT_EQ(a.disconnected.size(), 1u);
  EXPECT_EQ(a.disconnected[0].reason, DisconnectReason::kLocalClosed);
}

// The node's own shutdown sequence: disconnect every peer, then stop (PeatMesh::stop).
TEST_F(QuicDepartureTest, DisconnectThenStopIsSeenAsRemoteClose) {
  Node a(loop, 1, long_idle);
  Node b(loop, 2, long_idle);
  Node c(loop, 3, long_idle);
  ASSERT_TRUE(connect(a, b));
  ASSERT_TRUE(connect(c, a));
  a.transport->disconnect(b.id());
  a.transport->disconnect(c.id());
  a.transport->stop();
  ASSERT_TRUE(gone(b));
  ASSERT_TRUE(gone(c));
  EXPECT_EQ(b.disconnected[0].reason, DisconnectReason::kRemoteClosed);
  EXPECT_EQ(c.disconnected[0].reason, DisconnectReason::kRemoteClosed);
}

// Both dialled at once (static peers on both sides do this); the surviving connection's close
// must still be reported, not handed over to the closed duplicate.
TEST_F(QuicDepartureTest, StopAfterSimultaneousDialsIsSeenAsRemoteClose) {
  Node a(loop, 1, long_idle);
  Node b(loop, 2, long_idle);
  a.transport->connect(b.id(), b.address());
  b.transport->connect(a.id(), a.address());
  ASSERT_TRUE(loop.run_until(
      [&] { return a.transport->is_connected(b.id()) && b.transport->is_connected(a.id()); },
      kLimit));
  loop.run_for(50ms);
  a.transport->stop();
  ASSERT_TRUE(gone(b));
  EXPECT_EQ(b.disconnected[0].reason, DisconnectReason::kRemoteClosed) << b.disconnected[0].detail;
}

// Stopping in the middle of bulk transfers, either way: the CONNECTION_CLOSE is not stuck
// behind queued stream data or a full socket.
TEST_F(QuicDepartureTest, StopWhileSendingIsSeenAsRemoteClose) {
  Node a(loop, 1, long_idle);
  Node b(loop, 2, long_idle);
  ASSERT_TRUE(connect(a, b));
  for (std::uint8_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(a.transport->send_unordered(b.id(), Channel::kBlobs, pattern(4 << 20, i)).ok());
  }
  loop.run_for(20ms);
  a.transport->stop();
  ASSERT_TRUE(gone(b));
  EXPECT_EQ(b.disconnected[0].reason, DisconnectReason::kRemoteClosed) << b.disconnected[0].detail;
}

TEST_F(QuicDepartureTest, StopWhileReceivingIsSeenAsRemoteClose) {
  Node a(loop, 1, long_idle);
  Node b(loop, 2, long_idle);
  ASSERT_TRUE(connect(a, b));
  for (std::uint8_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(b.transport->send_unordered(a.id(), Channel::kBlobs, pattern(4 << 20, i)).ok());
  }
  loop.run_for(20ms);
  a.transport->stop();
  ASSERT_TRUE(gone(b));
  EXPECT_EQ(b.disconnected[0].reason, DisconnectReason::kRemoteClosed) << b.disconnected[0].detail;
}

// A non-zero application error in the peer's CONNECTION_CLOSE arrives at once too, with the
// code and reason in the detail.
TEST_F(QuicDepartureTest, ApplicationErrorCloseCarriesCodeAndReason) {
  Node a(loop, 1, [](QuicTransportConfig& c) {
    long_idle(c);
    c.settings.max_message_size = 1000;
  });
  Node b(loop, 2, long_idle);
  ASSERT_TRUE(connect(a, b));
  ASSERT_TRUE(b.transport->send(a.id(), Channel::kSync, Bytes(5000)).ok());
  ASSERT_TRUE(gone(b));
  EXPECT_EQ(b.disconnected[0].reason, DisconnectReason::kApplicationError);
  EXPECT_NE(b.disconnected[0].detail.find("application error 2"), std::string::npos)
      << b.disconnected[0].detail;
  EXPECT_NE(b.disconnected[0].detail.find("exceeds the limit"), std::string::npos)
      << b.disconnected[0].detail;
}

// A peer can reconnect to a node right after disconnecting from it: the old connection's
// closing period does not get in the way, and its end reports nothing more.
TEST_F(QuicDepartureTest, ReconnectDuringTheClosingPeriod) {
  Node a(loop, 1, long_idle);
  Node b(loop, 2, long_idle);
  ASSERT_TRUE(connect(a, b));
  a.transport->disconnect(b.id());
  ASSERT_TRUE(gone(b));
  ASSERT_TRUE(connect(a, b));
  ASSERT_TRUE(a.transport->send(b.id(), Channel::kSync, to_bytes("again")).ok());
  ASSERT_TRUE(loop.run_until([&] { return b.count(Channel::kSync) == 1; }, kLimit));
  loop.run_for(300ms);  // well past the old connection's closing period on loopback
  EXPECT_EQ(a.disconnected.size(), 1u);
  EXPECT_EQ(b.disconnected.size(), 1u);
  EXPECT_TRUE(a.transport->is_connected(b.id()));
  EXPECT_TRUE(b.transport->is_connected(a.id()));
}

// A peer driven by hand: a sans-I/O client Connection on a plain UDP socket of its own, so a
// test can make it vanish the way a crashed process does (socket gone, no CONNECTION_CLOSE).
class HandDrivenPeer {
 public:
  // Dials `server`.
  HandDrivenPeer(std::uint8_t tag, const Node& server) : tag_(tag), rng_(tag + 100u) {
    open_socket();
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sin.sin_port = htons(*server.transport->local_port());
    std::memcpy(&remote_.storage, &sin, sizeof(sin));
    remote_.length = sizeof(sin);
    ConnectionOptions o = options();
    o.expected_peer = server.id();
    conn_ = Connection::connect(std::move(o), local_, remote_, rng_, Instant::clock::now()).value();
  }
  // Waits to be dialled. Its reset tokens are made with the key a QuicTransport of the same
  // identity derives, like a node whose earlier run this stands for.
  explicit HandDrivenPeer(std::uint8_t tag) : tag_(tag), rng_(tag + 100u) {
    open_socket();
    accept_ = true;
  }
  ~HandDrivenPeer() { crash(); }

  std::uint16_t port() const {
    return ntohs(reinterpret_cast<const sockaddr_in&>(local_.storage).sin_port);
  }

  // One round of I/O: read what arrived, run due timers, send what is due.
  void pump() {
    if (fd_ < 0) return;
    const Instant now = Instant::clock::now();
    std::vector<std::uint8_t> buf(65536);
    for (int i = 0; i < 64; ++i) {
      sockaddr_storage from{};
      socklen_t from_len = sizeof(from);
      const ssize_t n =
          recvfrom(fd_, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &from_len);
      if (n <= 0) break;
      const ByteView d(buf.data(), static_cast<std::size_t>(n));
      if (!conn_ && accept_) {
        std::memcpy(&remote_.storage, &from, from_len);
        remote_.length = from_len;
        ConnectionOptions o = options();
        o.reset_key = reset_key_for(make_identity(tag_));
        auto c = Connection::accept(std::move(o), local_, remote_, d, rng_, now);
        if (c) conn_ = std::move(c).value();
        continue;
      }
      if (conn_) conn_->receive(d, now);
    }
    if (!conn_) return;
    if (auto t = conn_->expiry(); t && *t <= now) conn_->handle_timeout(now);
    for (int i = 0; i < 16; ++i) {
      std::size_t seg = 0;
      const std::size_t n = conn_->write_datagrams(buf, seg, 64, now);
      if (n == 0) break;
      for (std::size_t off = 0; off < n; off += seg) {
        sendto(fd_, buf.data() + off, std::min(seg, n - off), 0,
               reinterpret_cast<const sockaddr*>(&remote_.storage), remote_.length);
      }
    }
    while (conn_->poll_event()) {
    }
  }
  bool connected() const { return conn_ && conn_->is_established(); }
  // The process dies: its socket closes, nothing is sent.
  void crash() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

 private:
  void open_socket() {
    fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&sin), sizeof(sin)), 0);
    socklen_t len = sizeof(sin);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&sin), &len);
    std::memcpy(&local_.storage, &sin, sizeof(sin));
    local_.length = sizeof(sin);
  }
  ConnectionOptions options() const {
    ConnectionOptions o;
    o.tls = TlsIdentity::create(make_identity(tag_)).value();
    o.alpns = {std::string(kAlpnSync)};
    o.settings.idle_timeout = kLongIdle;
    return o;
  }

  std::uint8_t tag_;
  SeededRng rng_;
  int fd_ = -1;
  bool accept_ = false;
  UdpEndpoint local_;
  UdpEndpoint remote_;
  std::unique_ptr<Connection> conn_;
};

// A peer that vanishes without a word: its port answers the next packets with ICMP port
// unreachable, which ends the connection (kNetworkError) long before the idle timeout.
TEST_F(QuicDepartureTest, CrashedPeerIsSeenThroughPortUnreachable) {
  Node b(loop, 2, [](QuicTransportConfig& c) {
    long_idle(c);
    c.settings.keep_alive = 200ms;  // something to send while idle, as any live link has
  });
  HandDrivenPeer a(1, b);
  ASSERT_TRUE(loop.run_until(
      [&] {
        a.pump();
        return a.connected() && b.connected.size() == 1;
      },
      kLimit));
  // Let the link go quiet: only keep-alives remain.
  loop.run_until(
      [&] {
        a.pump();
        return false;
      },
      500ms);
  a.crash();
  ASSERT_TRUE(gone(b));
  EXPECT_EQ(b.disconnected[0].reason, DisconnectReason::kNetworkError) << b.disconnected[0].detail;
  EXPECT_NE(b.disconnected[0].detail.find("port unreachable"), std::string::npos)
      << b.disconnected[0].detail;
  EXPECT_FALSE(b.transport->is_connected(b.connected[0]));
}

// The same with data in flight towards the vanished peer.
TEST_F(QuicDepartureTest, CrashedPeerIsSeenWhileSendingToIt) {
  Node b(loop, 2, long_idle);
  HandDrivenPeer a(1, b);
  ASSERT_TRUE(loop.run_until(
      [&] {
        a.pump();
        return a.connected() && b.connected.size() == 1;
      },
      kLimit));
  a.crash();
  ASSERT_TRUE(b.transport->send(b.connected[0], Channel::kSync, pattern(200'000, 3)).ok());
  ASSERT_TRUE(gone(b));
  EXPECT_EQ(b.disconnected[0].reason, DisconnectReason::kNetworkError) << b.disconnected[0].detail;
}

// A dialling node restarts and dials again while its peer still holds the old connection (the
// old address swallows packets silently, as behind a NAT or a firewall: no ICMP, no reset).
// The new connection replaces the stale one at once, whichever peer id is smaller (the
// simultaneous-dial rule must not keep the stale connection and refuse the new one), and the
// peer reports the old connection's end before the new one.
TEST_F(QuicDepartureTest, RestartedDiallerReplacesItsOldConnection) {
  for (const auto& [dialler, listener] : {std::pair{1, 2}, std::pair{2, 1}}) {
    SCOPED_TRACE("dialler " + std::to_string(dialler));
    Node b(loop, static_cast<std::uint8_t>(listener), long_idle);
    HandDrivenPeer old_run(static_cast<std::uint8_t>(dialler), b);
    ASSERT_TRUE(loop.run_until(
        [&] {
          old_run.pump();
          return old_run.connected() && b.connected.size() == 1;
        },
        kLimit));
    // From here on the old run is silent: its socket stays open but nobody reads it.
    Node a(loop, static_cast<std::uint8_t>(dialler), long_idle);
    ASSERT_TRUE(connect(a, b));
    ASSERT_EQ(b.connected.size(), 2u);
    ASSERT_EQ(b.disconnected.size(), 1u);
    EXPECT_EQ(b.disconnected[0].peer, a.id());
    EXPECT_EQ(b.disconnected[0].reason, DisconnectReason::kRemoteClosed);
    EXPECT_NE(b.disconnected[0].detail.find("new connection"), std::string::npos)
        << b.disconnected[0].detail;
    ASSERT_TRUE(a.transport->send(b.id(), Channel::kSync, to_bytes("back")).ok());
    ASSERT_TRUE(loop.run_until([&] { return b.count(Channel::kSync) == 1; }, kLimit));
    loop.run_for(100ms);
    EXPECT_TRUE(a.disconnected.empty());
    EXPECT_EQ(b.disconnected.size(), 1u);
    EXPECT_TRUE(b.transport->is_connected(a.id()));
  }
}

// The same when the old connection was ours (we dialled the peer's earlier run): once that
// connection has been up for longer than a dial race can take (2 s), a dial from the peer
// replaces it instead of being treated as the other half of a simultaneous dial.
TEST_F(QuicDepartureTest, PeerWeDialledDialsBackAfterARestart) {
  for (const auto& [restarting, other] : {std::pair{1, 2}, std::pair{2, 1}}) {
    SCOPED_TRACE("restarting " + std::to_string(restarting));
    Node b(loop, static_cast<std::uint8_t>(other), long_idle);
    HandDrivenPeer old_run(static_cast<std::uint8_t>(restarting));
    b.transport->connect(
        peer_id_from_public_key(make_identity(static_cast<std::uint8_t>(restarting)).public_key),
        {{"127.0.0.1", old_run.port()}});
    ASSERT_TRUE(loop.run_until(
        [&] {
          old_run.pump();
          return old_run.connected() && b.connected.size() == 1;
        },
        kLimit));
    loop.run_for(2100ms);  // the old run falls silent; the link has been up for a while
    Node a(loop, static_cast<std::uint8_t>(restarting), long_idle);
    ASSERT_TRUE(connect(a, b));
    ASSERT_EQ(b.connected.size(), 2u);
    ASSERT_EQ(b.disconnected.size(), 1u);
    EXPECT_NE(b.disconnected[0].detail.find("new connection"), std::string::npos)
        << b.disconnected[0].detail;
    ASSERT_TRUE(a.transport->send(b.id(), Channel::kSync, to_bytes("back")).ok());
    ASSERT_TRUE(b.transport->send(a.id(), Channel::kSync, to_bytes("welcome")).ok());
    ASSERT_TRUE(loop.run_until(
        [&] { return b.count(Channel::kSync) == 1 && a.count(Channel::kSync) == 1; }, kLimit));
    EXPECT_TRUE(a.disconnected.empty());
    EXPECT_EQ(b.disconnected.size(), 1u);
  }
}

// Dialling a port nobody listens on fails at the port unreachable of the first Initial, not
// after the handshake timeout.
TEST_F(QuicDepartureTest, DiallingAClosedPortFailsAtOnce) {
  Node a(loop, 1, long_idle);
  std::uint16_t port = 0;
  {
    Node gone_node(loop, 2);
    port = *gone_node.transport->local_port();
  }  // stopped: its port is closed
  a.transport->connect(peer_id_from_public_key(make_identity(2).public_key), {{"127.0.0.1", port}});
  ASSERT_TRUE(gone(a));
  EXPECT_EQ(a.disconnected[0].reason, DisconnectReason::kNetworkError) << a.disconnected[0].detail;
  EXPECT_NE(a.disconnected[0].detail.find("port unreachable"), std::string::npos)
      << a.disconnected[0].detail;
}

// A node restarts on the same port before its peers noticed it was gone: the new run does not
// know the old connections, so it answers their next packet with a stateless reset (its tokens
// come from the identity's reset key), and the peer drops the connection at once.
TEST_F(QuicDepartureTest, RestartedPeerResetsTheOldConnection) {
  Node b(loop, 2, [](QuicTransportConfig& c) {
    long_idle(c);
    c.settings.keep_alive = 200ms;
  });
  HandDrivenPeer old_run(1);  // node 1's run before the restart, accepting b's dial
  b.transport->connect(peer_id_from_public_key(make_identity(1).public_key),
                       {{"127.0.0.1", old_run.port()}});
  ASSERT_TRUE(loop.run_until(
      [&] {
        old_run.pump();
        return old_run.connected() && b.connected.size() == 1;
      },
      kLimit));
  const std::uint16_t port = old_run.port();
  old_run.crash();
  Node a(loop, 1, [port](QuicTransportConfig& c) {
    long_idle(c);
    c.bind_port = port;
  });
  ASSERT_EQ(*a.transport->local_port(), port);
  ASSERT_TRUE(gone(b));
  EXPECT_EQ(b.disconnected[0].reason, DisconnectReason::kNetworkError) << b.disconnected[0].detail;
  EXPECT_NE(b.disconnected[0].detail.find("stateless reset"), std::string::npos)
      << b.disconnected[0].detail;
  EXPECT_GE(a.transport->io_stats().stateless_resets_sent, 1u);
  EXPECT_TRUE(a.disconnected.empty());
  // The restarted node and its peer connect afresh.
  ASSERT_TRUE(connect(b, a));
}

}  // namespace
}  // namespace peat::transport::quic
