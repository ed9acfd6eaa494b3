// QuicTransport on 127.0.0.1: two transports on one IoLoop, every run loop bounded.
#include "peat/transport/quic/quic_transport.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

#include <boost/asio/ip/udp.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <vector>

#include "peat/runtime/io_loop.hpp"
#include "peat/transport/quic/connection.hpp"
#include "runtime/asio.hpp"
#include "test_nodes.hpp"

namespace peat::transport::quic {
namespace {

using namespace quic_test;

TEST_F(QuicTransportTest, ConnectsAndExchangesMessagesOnSeveralChannels) {
  Node a(loop, 1);
  Node b(loop, 2);
  ASSERT_TRUE(connect(a, b));
  EXPECT_EQ(a.connected, std::vector<PeerId>{b.id()});
  EXPECT_EQ(b.connected, std::vector<PeerId>{a.id()});
  EXPECT_EQ(a.transport->connected_peers(), std::vector<PeerId>{b.id()});

  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(
        a.transport->send(b.id(), Channel::kSync, to_bytes("sync " + std::to_string(i))).ok());
    ASSERT_TRUE(
        a.transport->send(b.id(), Channel::kBlobs, to_bytes("blob " + std::to_string(i))).ok());
    ASSERT_TRUE(
        a.transport->send(b.id(), Channel::kControl, to_bytes("ctl " + std::to_string(i))).ok());
  }
  ASSERT_TRUE(b.transport->send(a.id(), Channel::kSync, to_bytes("reply")).ok());
  ASSERT_TRUE(b.transport->send(a.id(), Channel::kSync, Bytes{}).ok());
  ASSERT_TRUE(loop.run_until(
      [&] {
        return b.count(Channel::kSync) == 20 && b.count(Channel::kBlobs) == 20 &&
               b.count(Channel::kControl) == 20 && a.count(Channel::kSync) == 2;
      },
      kLimit));
  for (int i = 0; i < 20; ++i) {  // in order on each channel
    EXPECT_EQ(as_chars(b.messages[Channel::kSync][i]), "sync " + std::to_string(i));
    EXPECT_EQ(as_chars(b.messages[Channel::kBlobs][i]), "blob " + std::to_string(i));
    EXPECT_EQ(as_chars(b.messages[Channel::kControl][i]), "ctl " + std::to_string(i));
  }
  EXPECT_EQ(as_chars(a.messages[Channel::kSync][0]), "reply");
  EXPECT_TRUE(a.messages[Channel::kSync][1].empty());

  // A sync connection does not carry enrollment; an unknown peer is not connected.
  const Status enroll = a.transport->send(b.id(), Channel::kEnrollment, to_bytes("x"));
  ASSERT_FALSE(enroll.ok());
  EXPECT_EQ(enroll.error().code, "CHANNEL_NOT_ALLOWED");
  const Status nobody = a.transport->send(std::string(32, '0'), Channel::kSync, to_bytes("x"));
  ASSERT_FALSE(nobody.ok());
  EXPECT_EQ(nobody.error().code, "NOT_CONNECTED");

  // Dialling a connected peer reports the existing connection instead of opening another.
  a.transport->connect(b.id(), b.address());
  ASSERT_TRUE(loop.run_until([&] { return a.connected.size() == 2; }, kLimit));
  EXPECT_EQ(b.connected.size(), 1u);

  const auto health = a.transport->health(b.id());
  ASSERT_TRUE(health.has_value());
  EXPECT_EQ(health->state, ConnectionState::kHealthy);
  EXPECT_FALSE(a.transport->health(std::string(32, '0')).has_value());
}

TEST_F(QuicTransportTest, EnrollmentAlpnCarriesOnlyEnrollment) {
  Node a(loop, 1);
  Node b(loop, 2);
  a.transport->connect(b.id(), b.address(), kAlpnEnroll);
  ASSERT_TRUE(loop.run_until(
      [&] { return a.transport->is_connected(b.id()) && b.transport->is_connected(a.id()); },
      kLimit));
  ASSERT_TRUE(a.transport->send(b.id(), Channel::kEnrollment, to_bytes("enroll me")).ok());
  EXPECT_EQ(a.transport->send(b.id(), Channel::kSync, to_bytes("x")).error().code,
            "CHANNEL_NOT_ALLOWED");
  ASSERT_TRUE(loop.run_until([&] { return b.count(Channel::kEnrollment) == 1; }, kLimit));
  EXPECT_EQ(as_chars(b.messages[Channel::kEnrollment][0]), "enroll me");
}

TEST_F(QuicTransportTest, LargeMessagesArriveIntact) {
  Node a(loop, 1);
  Node b(loop, 2);
  ASSERT_TRUE(connect(a, b));
  const Bytes big = pattern(6 * 1024 * 1024 + 17, 7);
  ASSERT_TRUE(a.transport->send(b.id(), Channel::kBlobs, big).ok());
  // Sixteen concurrent unordered messages, each on its own stream.
  for (std::uint8_t i = 0; i < 16; ++i) {
    ASSERT_TRUE(a.transport->send_unordered(b.id(), Channel::kSync, pattern(100'000 + i, i)).ok());
  }
  ASSERT_TRUE(loop.run_until(
      [&] { return b.count(Channel::kBlobs) == 1 && b.count(Channel::kSync) == 16; }, kLimit));
  EXPECT_TRUE(b.messages[Channel::kBlobs][0] == big);
  std::vector<bool> seen(16);
  for (const Bytes& m : b.messages[Channel::kSync]) {
    const std::size_t i = m.size() - 100'000;
    ASSERT_LT(i, 16u);
    EXPECT_TRUE(m == pattern(m.size(), static_cast<std::uint8_t>(i)));
    seen[i] = true;
  }
  EXPECT_EQ(std::count(seen.begin(), seen.end(), true), 16);
}

TEST_F(QuicTransportTest, OversizedMessageIsRefused) {
  Node a(loop, 1, [](QuicTransportConfig& c) { c.settings.max_message_size = 1000; });
  Node b(loop, 2);
  ASSERT_TRUE(connect(a, b));
  const Status s = a.transport->send(b.id(), Channel::kSync, Bytes(1001));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "MESSAGE_TOO_LARGE");
  // The receiver enforces its own limit: a peer sending more is cut off.
  ASSERT_TRUE(b.transport->send(a.id(), Channel::kSync, Bytes(5000)).ok());
  ASSERT_TRUE(
      loop.run_until([&] { return !a.disconnected.empty() && !b.disconnected.empty(); }, kLimit));
  EXPECT_EQ(a.disconnected[0].reason, DisconnectReason::kApplicationError);
  EXPECT_NE(a.disconnected[0].detail.find("exceeds"), std::string::npos);
  EXPECT_EQ(b.disconnected[0].reason, DisconnectReason::kApplicationError);
  EXPECT_EQ(a.count(Channel::kSync), 0u);
}

TEST_F(QuicTransportTest, DatagramsAreDelivered) {
  Node a(loop, 1);
  Node b(loop, 2);
  ASSERT_TRUE(connect(a, b));
  // Best effort: resend until one arrives (loopback does not drop, but nothing is promised).
  for (int i = 0; i < 50 && b.datagrams.empty(); ++i) {
    ASSERT_TRUE(a.transport->send_datagram(b.id(), to_bytes("ping")).ok());
    loop.run_until([&] { return !b.datagrams.empty(); }, 200ms);
  }
  ASSERT_FALSE(b.datagrams.empty());
  EXPECT_EQ(as_chars(b.datagrams[0]), "ping");
  EXPECT_EQ(a.transport->send_datagram(b.id(), Bytes(kMaxDatagramPayload + 1)).error().code,
            "MESSAGE_TOO_LARGE");
  EXPECT_EQ(a.transport->send_datagram(std::string(32, '0'), to_bytes("x")).error().code,
            "NOT_CONNECTED");
}

TEST_F(QuicTransportTest, DatagramsUnsupportedWhenPeerDisablesThem) {
  Node a(loop, 1);
  Node b(loop, 2, [](QuicTransportConfig& c) { c.settings.datagrams = false; });
  ASSERT_TRUE(connect(a, b));
  EXPECT_EQ(a.transport->send_datagram(b.id(), to_bytes("x")).error().code, "UNSUPPORTED");
}

TEST_F(QuicTransportTest, WrongPinnedIdentityIsRejected) {
  Node a(loop, 1);
  Node b(loop, 2);
  Node c(loop, 3);
  // Dial B's address expecting C: B's key does not hash to C's id.
  a.transport->connect(c.id(), b.address());
  ASSERT_TRUE(loop.run_until([&] { return !a.disconnected.empty(); }, kLimit));
  EXPECT_EQ(a.disconnected[0].peer, c.id());
  EXPECT_EQ(a.disconnected[0].reason, DisconnectReason::kAuthenticationFailed);
  EXPECT_NE(a.disconnected[0].detail.find("identity mismatch"), std::string::npos)
      << a.disconnected[0].detail;
  EXPECT_TRUE(a.connected.empty());
  loop.run_for(50ms);
  EXPECT_TRUE(b.connected.empty());
  EXPECT_FALSE(b.transport->is_connected(a.id()));
}

TEST_F(QuicTransportTest, ExactPinnedKeyMismatchIsRejected) {
  Node b(loop, 2);
  PublicKey wrong = make_identity(9).public_key;
  Node a(loop, 1, [&](QuicTransportConfig& c) { c.pinned_keys[b.id()] = wrong; });
  a.transport->connect(b.id(), b.address());
  ASSERT_TRUE(loop.run_until([&] { return !a.disconnected.empty(); }, kLimit));
  EXPECT_EQ(a.disconnected[0].reason, DisconnectReason::kAuthenticationFailed);
  EXPECT_NE(a.disconnected[0].detail.find("pinned key"), std::string::npos)
      << a.disconnected[0].detail;
}

TEST_F(QuicTransportTest, UnacceptedAlpnIsRejected) {
  Node a(loop, 1);
  Node b(loop, 2, [](QuicTransportConfig& c) { c.accept_alpns = {std::string(kAlpnSync)}; });
  a.transport->connect(b.id(), b.address(), kAlpnEnroll);
  ASSERT_TRUE(loop.run_until([&] { return !a.disconnected.empty(); }, kLimit));
  EXPECT_EQ(a.disconnected[0].reason, DisconnectReason::kAuthenticationFailed);
  EXPECT_NE(a.disconnected[0].detail.find("ALPN"), std::string::npos) << a.disconnected[0].detail;
  EXPECT_TRUE(b.connected.empty());

  Node c(loop, 3);
  c.transport->connect(b.id(), b.address(), "bogus/1");
  ASSERT_TRUE(loop.run_until([&] { return !c.disconnected.empty(); }, kLimit));
  EXPECT_NE(c.disconnected[0].detail.find("ALPN"), std::string::npos) << c.disconnected[0].detail;
}

TEST_F(QuicTransportTest, AdmissionGateRefuses) {
  std::vector<PeerId> asked;
  PublicKey seen_key{};
  std::string seen_alpn;
  Node b(loop, 2, [&](QuicTransportConfig& c) {
    c.admit = [&](const PeerId& p, const PublicKey& k, std::string_view alpn) {
      asked.push_back(p);
      seen_key = k;
      seen_alpn = alpn;
      return false;
    };
  });
  Node a(loop, 1);
  a.transport->connect(b.id(), b.address());
  ASSERT_TRUE(loop.run_until([&] { return !a.disconnected.empty(); }, kLimit));
  EXPECT_EQ(a.disconnected[0].reason, DisconnectReason::kAuthenticationFailed);
  EXPECT_NE(a.disconnected[0].detail.find("not admitted"), std::string::npos)
      << a.disconnected[0].detail;
  EXPECT_EQ(asked, std::vector<PeerId>{a.id()});
  EXPECT_EQ(seen_key, make_identity(1).public_key);
  EXPECT_EQ(seen_alpn, kAlpnSync);
  EXPECT_TRUE(b.connected.empty());
  EXPECT_TRUE(a.connected.empty());
}

TEST_F(QuicTransportTest, AdmissionGateAdmits) {
  Node b(loop, 2, [](QuicTransportConfig& c) {
    c.admit = [](const PeerId&, const PublicKey&, std::string_view) { return true; };
  });
  Node a(loop, 1);
  ASSERT_TRUE(connect(a, b));
}

// A served ALPN on the node's socket: strangers are admitted for it alone, its connections
// never count as peer links, and a member can hold one besides its peer link.
TEST_F(QuicTransportTest, ServedAlpnIsKeptApartFromPeerLinks) {
  const PeerId member = peer_id_from_public_key(make_identity(3).public_key);
  Node b(loop, 2, [&](QuicTransportConfig& c) {
    c.admit = [&](const PeerId& p, const PublicKey&, std::string_view alpn) {
      EXPECT_EQ(alpn, kAlpnSync);
      return p == member;
    };
  });
  std::vector<std::string> served_log;
  TransportEvents ev;
  ev.on_connected = [&](const PeerId& p) { served_log.push_back("connected " + p); };
  ev.on_message = [&](const PeerId& p, Channel c, Bytes m) {
    served_log.push_back("message " + p);
    EXPECT_EQ(c, Channel::kEnrollment);
    EXPECT_TRUE(b.transport->send_served(kAlpnEnroll, p, Channel::kEnrollment, m).ok());
  };
  ev.on_disconnected = [&](const PeerId& p, DisconnectReason, const std::string&) {
    served_log.push_back("disconnected " + p);
  };
  b.transport->serve(
      std::string(kAlpnEnroll),
      [](const PeerId&, const PublicKey&, std::string_view) { return true; }, ev);
  Node stranger(loop, 1);
  stranger.transport->connect(b.id(), b.address(), kAlpnEnroll);
  ASSERT_TRUE(loop.run_until([&] { return stranger.transport->is_connected(b.id()); }, kLimit));
  ASSERT_TRUE(stranger.transport->send(b.id(), Channel::kEnrollment, to_bytes("req")).ok());
  ASSERT_TRUE(loop.run_until([&] { return stranger.count(Channel::kEnrollment) == 1; }, kLimit));
  const Bytes& answer = stranger.messages[Channel::kEnrollment][0];
  EXPECT_EQ(std::string(answer.begin(), answer.end()), "req");
  EXPECT_FALSE(b.transport->is_connected(stranger.id()));
  EXPECT_TRUE(b.connected.empty());
  EXPECT_TRUE(b.messages.empty());
  EXPECT_EQ(b.transport->send_served(kAlpnBlobs, stranger.id(), Channel::kBlobs, to_bytes("x"))
                .error()
                .code,
            "NOT_SERVED");
  // The stranger on the sync ALPN meets the mesh's gate.
  Node stranger_sync(loop, 5);
  stranger_sync.transport->connect(b.id(), b.address());
  ASSERT_TRUE(loop.run_until([&] { return !stranger_sync.disconnected.empty(); }, kLimit));
  EXPECT_EQ(stranger_sync.disconnected[0].reason, DisconnectReason::kAuthenticationFailed);
  // A member: a peer link and a served connection side by side.
  Node m(loop, 3);
  ASSERT_TRUE(connect(m, b));
  // Same identity as `m`, other connection ids (a node's rng seeds them).
  Node m_enroll(loop, 13, [](QuicTransportConfig& c) { c.identity = make_identity(3); });
  m_enroll.transport->connect(b.id(), b.address(), kAlpnEnroll);
  ASSERT_TRUE(loop.run_until([&] { return m_enroll.transport->is_connected(b.id()); }, kLimit));
  ASSERT_TRUE(m_enroll.transport->send(b.id(), Channel::kEnrollment, to_bytes("again")).ok());
  ASSERT_TRUE(loop.run_until([&] { return m_enroll.count(Channel::kEnrollment) == 1; }, kLimit));
  m_enroll.transport->disconnect(b.id());
  ASSERT_TRUE(loop.run_until(
      [&] { return !served_log.empty() && served_log.back() == "disconnected " + member; },
      kLimit));
  EXPECT_TRUE(b.transport->is_connected(member));
  EXPECT_TRUE(b.disconnected.empty());
  EXPECT_EQ(b.connected, std::vector<PeerId>{member});
  ASSERT_TRUE(m.transport->send(b.id(), Channel::kSync, to_bytes("sync")).ok());
  ASSERT_TRUE(loop.run_until([&] { return b.count(Channel::kSync) == 1; }, kLimit));
  EXPECT_EQ(served_log, (std::vector<std::string>{"connected " + stranger.id(),
                                                  "message " + stranger.id(), "connected " + member,
                                                  "message " + member, "disconnected " + member}));
}

// One endpoint, two policies: any key may enroll, only known keys may join the mesh.
TEST_F(QuicTransportTest, AdmissionGateSeesTheNegotiatedAlpn) {
  std::vector<std::string> alpns;
  const PeerId member = peer_id_from_public_key(make_identity(3).public_key);
  Node b(loop, 2, [&](QuicTransportConfig& c) {
    c.admit = [&](const PeerId& p, const PublicKey&, std::string_view alpn) {
      alpns.emplace_back(alpn);
      return alpn == kAlpnEnroll || p == member;
    };
  });
  Node stranger(loop, 1);
  stranger.transport->connect(b.id(), b.address());
  ASSERT_TRUE(loop.run_until([&] { return !stranger.disconnected.empty(); }, kLimit));
  EXPECT_EQ(stranger.disconnected[0].reason, DisconnectReason::kAuthenticationFailed);
  Node enrolling(loop, 4);
  enrolling.transport->connect(b.id(), b.address(), kAlpnEnroll);
  ASSERT_TRUE(loop.run_until([&] { return enrolling.transport->is_connected(b.id()); }, kLimit));
  EXPECT_EQ(enrolling.transport->send(b.id(), Channel::kSync, to_bytes("x")).error().code,
            "CHANNEL_NOT_ALLOWED");
  ASSERT_TRUE(enrolling.transport->send(b.id(), Channel::kEnrollment, to_bytes("hello")).ok());
  ASSERT_TRUE(loop.run_until([&] { return b.count(Channel::kEnrollment) == 1; }, kLimit));
  Node known(loop, 3);
  ASSERT_TRUE(connect(known, b));
  EXPECT_EQ(alpns, (std::vector<std::string>{std::string(kAlpnSync), std::string(kAlpnEnroll),
                                             std::string(kAlpnSync)}));
}

TEST_F(QuicTransportTest, GarbageDatagramsAreIgnored) {
  Node a(loop, 1);
  Node b(loop, 2);
  namespace asio = boost::asio;
  asio::ip::udp::socket raw(runtime::asio_context(loop),
                            asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const asio::ip::udp::endpoint target(asio::ip::make_address("127.0.0.1"),
                                       *b.transport->local_port());
  SeededRng junk(99);
  auto send = [&](Bytes d) { raw.send_to(asio::buffer(d), target); };
  send({});
  send({0x00});
  send({0xc0});
  for (std::size_t n : {5u, 20u, 64u, 1199u, 1200u, 1500u, 9000u, 65000u}) {
    Bytes d(n);
    junk.fill(d);
    send(d);
    if (n > 6) {  // looks like a v1 long header Initial with random CIDs and body
      d[0] = 0xc3;
      d[1] = 0;
      d[2] = 0;
      d[3] = 0;
      d[4] = 1;
      d[5] = 8;
      send(d);
      d[5] = 255;  // impossible CID length
      send(d);
      d[0] = 0x40;  // short header with a random CID
      send(d);
    }
  }
  loop.run_for(50ms);
  EXPECT_TRUE(b.connected.empty());
  EXPECT_GT(b.transport->io_stats().ignored_datagrams, 0u);

  // Still healthy: a real peer connects and talks, and junk at the live connection is harmless.
  ASSERT_TRUE(connect(a, b));
  for (std::size_t n : {1u, 17u, 1200u}) {
    Bytes d(n);
    junk.fill(d);
    d[0] = 0x40;
    send(d);
  }
  ASSERT_TRUE(a.transport->send(b.id(), Channel::kSync, to_bytes("after junk")).ok());
  ASSERT_TRUE(loop.run_until([&] { return b.count(Channel::kSync) == 1; }, kLimit));
  EXPECT_TRUE(b.transport->is_connected(a.id()));
}

TEST_F(QuicTransportTest, IdleTimeoutDisconnects) {
  auto idle = [](QuicTransportConfig& c) {
    c.settings.idle_timeout = 300ms;
    c.settings.keep_alive = Duration::zero();
  };
  Node a(loop, 1, idle);
  Node b(loop, 2, idle);
  ASSERT_TRUE(connect(a, b));
  ASSERT_TRUE(
      loop.run_until([&] { return !a.disconnected.empty() && !b.disconnected.empty(); }, kLimit));
  EXPECT_EQ(a.disconnected[0].reason, DisconnectReason::kIdleTimeout);
  EXPECT_EQ(b.disconnected[0].reason, DisconnectReason::kIdleTimeout);
  EXPECT_FALSE(a.transport->is_connected(b.id()));
}

TEST_F(QuicTransportTest, KeepAliveHoldsAnIdleConnection) {
  auto keep = [](QuicTransportConfig& c) {
    c.settings.idle_timeout = 800ms;
    c.settings.keep_alive = 100ms;
  };
  Node a(loop, 1, keep);
  Node b(loop, 2, keep);
  ASSERT_TRUE(connect(a, b));
  loop.run_for(1600ms);  // twice the idle timeout with no traffic but keep-alive PINGs
  EXPECT_TRUE(a.disconnected.empty());
  EXPECT_TRUE(a.transport->is_connected(b.id()));
}

TEST_F(QuicTransportTest, ReconnectsAfterClose) {
  Node a(loop, 1);
  Node b(loop, 2);
  ASSERT_TRUE(connect(a, b));
  a.transport->disconnect(b.id());
  ASSERT_TRUE(
      loop.run_until([&] { return !a.disconnected.empty() && !b.disconnected.empty(); }, kLimit));
  EXPECT_EQ(a.disconnected[0].reason, DisconnectReason::kLocalClosed);
  EXPECT_EQ(b.disconnected[0].reason, DisconnectReason::kRemoteClosed);
  EXPECT_FALSE(a.transport->is_connected(b.id()));
  EXPECT_FALSE(b.transport->is_connected(a.id()));

  ASSERT_TRUE(connect(a, b));
  ASSERT_TRUE(b.transport->send(a.id(), Channel::kSync, to_bytes("again")).ok());
  ASSERT_TRUE(loop.run_until([&] { return a.count(Channel::kSync) == 1; }, kLimit));
  EXPECT_EQ(a.connected.size(), 2u);
}

TEST_F(QuicTransportTest, StopClosesPeers) {
  Node a(loop, 1);
  Node b(loop, 2);
  ASSERT_TRUE(connect(a, b));
  a.transport->stop();
  ASSERT_TRUE(loop.run_until([&] { return !b.disconnected.empty(); }, kLimit));
  EXPECT_EQ(b.disconnected[0].reason, DisconnectReason::kRemoteClosed);
}

TEST_F(QuicTransportTest, SimultaneousDialsLeaveOneConnection) {
  Node a(loop, 1);
  Node b(loop, 2);
  a.transport->connect(b.id(), b.address());
  b.transport->connect(a.id(), a.address());
  ASSERT_TRUE(loop.run_until(
      [&] { return a.transport->is_connected(b.id()) && b.transport->is_connected(a.id()); },
      kLimit));
  loop.run_for(100ms);
  EXPECT_EQ(a.connected.size(), 1u);
  EXPECT_EQ(b.connected.size(), 1u);
  EXPECT_TRUE(a.disconnected.empty());
  ASSERT_TRUE(a.transport->send(b.id(), Channel::kSync, to_bytes("one")).ok());
  ASSERT_TRUE(loop.run_until([&] { return b.count(Channel::kSync) == 1; }, kLimit));
}

TEST_F(QuicTransportTest, BackpressureThenWritable) {
  auto small = [](QuicTransportConfig& c) { c.settings.send_queue_limit = 256 * 1024; };
  Node a(loop, 1, small);
  Node b(loop, 2);
  ASSERT_TRUE(connect(a, b));
  const Bytes chunk = pattern(64 * 1024, 3);
  std::size_t sent = 0;
  bool blocked = false;
  for (int i = 0; i < 100 && !blocked; ++i) {
    const Status s = a.transport->send(b.id(), Channel::kBlobs, chunk);
    if (s.ok()) {
      ++sent;
    } else {
      EXPECT_EQ(s.error().code, "WOULD_BLOCK");
      blocked = true;
    }
  }
  ASSERT_TRUE(blocked);
  ASSERT_TRUE(loop.run_until([&] { return a.writable > 0; }, kLimit));
  ASSERT_TRUE(a.transport->send(b.id(), Channel::kBlobs, chunk).ok());
  ++sent;
  ASSERT_TRUE(loop.run_until([&] { return b.count(Channel::kBlobs) == sent; }, kLimit));
}

TEST_F(QuicTransportTest, ConnectFailuresAreReported) {
  Node a(loop, 1);
  a.transport->connect(std::string(32, 'a'), {{"not-an-ip", 1}});
  ASSERT_TRUE(loop.run_until([&] { return !a.disconnected.empty(); }, kLimit));
  EXPECT_EQ(a.disconnected[0].reason, DisconnectReason::kNetworkError);
}

TEST_F(QuicTransportTest, HandshakeTimesOutAgainstSilentPeer) {
  Node a(loop, 1, [](QuicTransportConfig& c) { c.settings.handshake_timeout = 300ms; });
  namespace asio = boost::asio;
  asio::ip::udp::socket silent(runtime::asio_context(loop),
                               asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  a.transport->connect(std::string(32, 'b'), {{"127.0.0.1", silent.local_endpoint().port()}});
  ASSERT_TRUE(loop.run_until([&] { return !a.disconnected.empty(); }, kLimit));
  EXPECT_EQ(a.disconnected[0].reason, DisconnectReason::kTimeout);
}

TEST(QuicTransportIdentity, MismatchedKeyFailsToStart) {
  runtime::IoLoop loop;
  SeededRng rng(1);
  QuicTransportConfig config;
  config.identity = make_identity(1);
  config.identity.public_key = make_identity(2).public_key;
  config.bind_host = "127.0.0.1";
  QuicTransport t(loop, config, rng);
  const Status s = t.start();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "INVALID_IDENTITY");
}

}  // namespace
}  // namespace peat::transport::quic

namespace peat::transport::quic {
namespace {

TEST_F(QuicTransportTest, ManyMoreStreamsThanTheConcurrencyLimit) {
  auto few = [](QuicTransportConfig& c) { c.settings.max_streams = 8; };
  Node a(loop, 1, few);
  Node b(loop, 2, few);
  ASSERT_TRUE(connect(a, b));
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(
        a.transport
            ->send_unordered(b.id(), Channel::kSync, Bytes(3000, static_cast<std::uint8_t>(i)))
            .ok());
  }
  ASSERT_TRUE(loop.run_until([&] { return b.count(Channel::kSync) == 100; }, kLimit))
      << b.count(Channel::kSync);
}

}  // namespace
}  // namespace peat::transport::quic

namespace peat::transport::quic {
namespace {

TEST_F(QuicTransportTest, WorksOverIpv6Loopback) {
  auto v6 = [](QuicTransportConfig& c) { c.bind_host = "::1"; };
  Node a(loop, 1, v6);
  Node b(loop, 2, v6);
  a.transport->connect(b.id(), {{"127.0.0.1", *b.transport->local_port()},  // wrong family: skipped
                                {"::1", *b.transport->local_port()}});
  ASSERT_TRUE(loop.run_until(
      [&] { return a.transport->is_connected(b.id()) && b.transport->is_connected(a.id()); },
      kLimit));
  ASSERT_TRUE(a.transport->send(b.id(), Channel::kSync, to_bytes("v6")).ok());
  ASSERT_TRUE(loop.run_until([&] { return b.count(Channel::kSync) == 1; }, kLimit));
}

// NAT rebinding: the dialling side moves to a new socket (a new local port) in the middle of a
// connection, with a message in flight. The connection survives: the server validates the new
// path and answers there, messages keep flowing both ways, and nobody sees a disconnect.
TEST_F(QuicTransportTest, ConnectionSurvivesTheClientRebindingToANewPort) {
  Node a(loop, 1);
  Node b(loop, 2);
  ASSERT_TRUE(connect(a, b));
  ASSERT_TRUE(a.transport->send(b.id(), Channel::kSync, to_bytes("before")).ok());
  ASSERT_TRUE(loop.run_until([&] { return b.count(Channel::kSync) == 1; }, kLimit));

  const std::uint16_t old_port = *a.transport->local_port();
  const Bytes big = pattern(300'000, 7);
  ASSERT_TRUE(a.transport->send(b.id(), Channel::kBlobs, big).ok());
  ASSERT_TRUE(a.transport->rebind().ok());
  EXPECT_NE(*a.transport->local_port(), old_port);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(
        a.transport->send(b.id(), Channel::kSync, to_bytes("after " + std::to_string(i))).ok());
  }
  ASSERT_TRUE(loop.run_until(
      [&] { return b.count(Channel::kSync) == 11 && b.count(Channel::kBlobs) == 1; }, kLimit));
  EXPECT_TRUE(b.messages[Channel::kBlobs][0] == big);
  EXPECT_EQ(as_chars(b.messages[Channel::kSync][10]), "after 9");

  // The server's replies reach the new port.
  ASSERT_TRUE(b.transport->send(a.id(), Channel::kSync, to_bytes("reply")).ok());
  ASSERT_TRUE(loop.run_until([&] { return a.count(Channel::kSync) == 1; }, kLimit));
  EXPECT_EQ(as_chars(a.messages[Channel::kSync][0]), "reply");
  EXPECT_TRUE(a.transport->is_connected(b.id()));
  EXPECT_TRUE(b.transport->is_connected(a.id()));
  EXPECT_TRUE(a.disconnected.empty());
  EXPECT_TRUE(b.disconnected.empty());
  EXPECT_EQ(a.connected.size(), 1u);
  EXPECT_EQ(b.connected.size(), 1u);
}

TEST_F(QuicTransportTest, RebindBeforeStartFails) {
  Node a(loop, 1);
  a.transport->stop();
  const Status s = a.transport->rebind();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "NOT_STARTED");
}

}  // namespace
}  // namespace peat::transport::quic
