// The sans-I/O connection driven by hand: datagrams move through memory, time is a variable.
#include "peat/transport/quic/connection.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>

#include "peat/common/sha256.hpp"

namespace peat::transport::quic {
namespace {

Identity make_identity(std::uint8_t tag) {
  Identity id;
  id.seed.fill(tag);
  std::array<std::uint8_t, 64> secret{};
  EXPECT_EQ(crypto_sign_seed_keypair(id.public_key.data(), secret.data(), id.seed.data()), 0);
  return id;
}

UdpEndpoint endpoint(std::uint16_t port, std::uint32_t ip = 0x7f000001) {
  UdpEndpoint e;
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  sin.sin_addr.s_addr = htonl(ip);
  std::memcpy(&e.storage, &sin, sizeof(sin));
  e.length = sizeof(sin);
  return e;
}

struct Pipe {
  Instant now = Instant{} + std::chrono::hours(1);
  std::vector<ConnectionEvent> client_events;
  std::vector<ConnectionEvent> server_events;

  std::size_t drop_every = 0;  // 0: lossless; n: every n-th datagram is lost
  std::size_t sent = 0;
  std::size_t largest = 0;  // largest datagram moved
  // Set: the client's packets arrive from this address (a NAT rebinding), and server packets
  // to any other address are lost.
  std::optional<UdpEndpoint> client_from;

  static bool same(const UdpEndpoint& a, const UdpEndpoint& b) {
    return a.length == b.length && std::memcmp(&a.storage, &b.storage, a.length) == 0;
  }

  // Moves datagrams both ways until neither side has anything to send (bounded).
  void pump(Connection& client, Connection& server, int rounds = 200) {
    std::vector<std::uint8_t> buf(65536);
    for (int round = 0; round < rounds; ++round) {
      bool moved = false;
      for (int dir = 0; dir < 2; ++dir) {
        Connection& from = dir == 0 ? client : server;
        Connection& to = dir == 0 ? server : client;
        std::size_t seg = 0;
        const std::size_t n = from.write_datagrams(buf, seg, 64, now);
        for (std::size_t off = 0; off < n; off += seg) {
          moved = true;
          largest = std::max(largest, std::min(seg, n - off));
          if (drop_every != 0 && ++sent % drop_every == 0) continue;
          const ByteView d(buf.data() + off, std::min(seg, n - off));
          if (dir == 0 && client_from) {
            to.receive(d, *client_from, now);
          } else if (dir == 1 && client_from && !same(from.destination(), *client_from)) {
            continue;  // addressed to the client's old port: nobody listens there any more
          } else {
            to.receive(d, now);
          }
        }
      }
      while (auto e = client.poll_event()) client_events.push_back(std::move(*e));
      while (auto e = server.poll_event()) server_events.push_back(std::move(*e));
      now += std::chrono::microseconds(100);
      if (!moved) {
        // Quiet: jump the clock to the next timer (delayed ACK, loss detection, pacing). Stop
        // when only far timers (keep-alive, idle) remain.
        std::optional<Instant> next;
        for (Connection* c : {&client, &server}) {
          if (auto t = c->expiry(); t && (!next || *t < *next)) next = t;
        }
        if (!next || *next > now + std::chrono::seconds(2)) break;
        now = std::max(now, *next);
        for (Connection* c : {&client, &server}) {
          if (auto t = c->expiry(); t && *t <= now) c->handle_timeout(now);
        }
      }
    }
  }
};

ConnectionOptions options(std::uint8_t tag, std::string alpn) {
  ConnectionOptions o;
  o.tls = TlsIdentity::create(make_identity(tag)).value();
  o.alpns = {std::move(alpn)};
  return o;
}

bool has(const std::vector<ConnectionEvent>& events, ConnectionEventType type) {
  for (const auto& e : events) {
    if (e.type == type) return true;
  }
  return false;
}

TEST(QuicConnection, HandshakeAndMessagesWithoutSockets) {
  SeededRng client_rng(1);
  SeededRng server_rng(2);
  Pipe pipe;
  ConnectionOptions co = options(1, "peat/sync/1");
  co.expected_peer = peer_id_from_public_key(make_identity(2).public_key);
  auto client = Connection::connect(co, endpoint(1000), endpoint(2000), client_rng, pipe.now);
  ASSERT_TRUE(client.ok());
  std::vector<std::uint8_t> buf(64 * 1500);
  std::size_t seg = 0;
  const std::size_t n = (*client)->write_datagrams(buf, seg, 64, pipe.now);
  ASSERT_GE(n, 1200u);  // client Initials are padded
  ByteView first(buf.data(), seg);
  EXPECT_TRUE(is_initial_packet(first));
  auto server = Connection::accept(options(2, "peat/sync/1"), endpoint(2000), endpoint(1000), first,
                                   server_rng, pipe.now);
  ASSERT_TRUE(server.ok()) << server.error().to_string();
  pipe.pump(**client, **server);
  ASSERT_TRUE((*client)->is_established());
  ASSERT_TRUE((*server)->is_established());
  EXPECT_EQ((*server)->peer_id(), peer_id_from_public_key(make_identity(1).public_key));
  EXPECT_EQ((*client)->alpn(), "peat/sync/1");
  EXPECT_TRUE(has(pipe.client_events, ConnectionEventType::kConnected));
  EXPECT_TRUE(has(pipe.server_events, ConnectionEventType::kConnected));

  ASSERT_TRUE((*client)->send(Channel::kSync, to_bytes("hello"), true).ok());
  ASSERT_TRUE((*client)->send(Channel::kBlobs, Bytes(100'000, 0xab), false).ok());
  pipe.pump(**client, **server);
  std::vector<Bytes> got;
  for (const auto& e : pipe.server_events) {
    if (e.type == ConnectionEventType::kMessage) got.push_back(e.data);
  }
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(as_chars(got[0]), "hello");
  EXPECT_EQ(got[1], Bytes(100'000, 0xab));

  (*client)->close(7, "bye", pipe.now);
  pipe.pump(**client, **server);
  EXPECT_TRUE((*client)->is_finished());
  ASSERT_TRUE(has(pipe.server_events, ConnectionEventType::kClosed));
  const auto& closed = pipe.server_events.back();
  EXPECT_EQ(closed.type, ConnectionEventType::kClosed);
  EXPECT_EQ(closed.reason, DisconnectReason::kApplicationError);
  EXPECT_NE(closed.detail.find("bye"), std::string::npos);
}

struct Established {
  SeededRng client_rng{21};
  SeededRng server_rng{22};
  Pipe pipe;
  std::unique_ptr<Connection> client;
  std::unique_ptr<Connection> server;
  std::vector<std::uint8_t> buf = std::vector<std::uint8_t>(65536);

  Established() {
    ConnectionOptions co = options(1, "peat/sync/1");
    co.expected_peer = peer_id_from_public_key(make_identity(2).public_key);
    client = Connection::connect(co, endpoint(1000), endpoint(2000), client_rng, pipe.now).value();
    std::size_t seg = 0;
    client->write_datagrams(buf, seg, 1, pipe.now);
    server = Connection::accept(options(2, "peat/sync/1"), endpoint(2000), endpoint(1000),
                                ByteView(buf.data(), seg), server_rng, pipe.now)
                 .value();
    pipe.pump(*client, *server);
  }
  // Moves what `from` has to send into `to`; returns the number of datagrams.
  std::size_t move(Connection& from, Connection& to) {
    std::size_t count = 0;
    std::size_t seg = 0;
    while (const std::size_t n = from.write_datagrams(buf, seg, 64, pipe.now)) {
      for (std::size_t off = 0; off < n; off += seg, ++count) {
        to.receive(ByteView(buf.data() + off, std::min(seg, n - off)), pipe.now);
      }
    }
    return count;
  }
  std::size_t discard(Connection& from) {
    std::size_t seg = 0;
    std::size_t count = 0;
    while (from.write_datagrams(buf, seg, 64, pipe.now) > 0) ++count;
    return count;
  }
  static std::optional<ConnectionEvent> closed_event(Connection& c) {
    std::optional<ConnectionEvent> out;
    while (auto e = c.poll_event()) {
      if (e->type == ConnectionEventType::kClosed) out = std::move(*e);
    }
    return out;
  }
};

// RFC 9000 §10.2: the closer reports at once, then stays in its closing period answering late
// packets with its CONNECTION_CLOSE (so a lost close is repeated); the peer that receives it
// reports at once, then drains (sends nothing); both end after three PTOs.
TEST(QuicConnection, ClosingAndDrainingPeriods) {
  Established e;
  ASSERT_TRUE(e.client->is_established());
  ASSERT_TRUE(e.server->is_established());
  e.client->close(0, "bye", e.pipe.now);
  const auto local = Established::closed_event(*e.client);
  ASSERT_TRUE(local);
  EXPECT_EQ(local->reason, DisconnectReason::kLocalClosed);
  EXPECT_TRUE(e.client->is_closed());
  EXPECT_FALSE(e.client->is_finished());
  EXPECT_EQ(e.discard(*e.client), 1u);  // the CONNECTION_CLOSE, lost
  EXPECT_EQ(e.discard(*e.client), 0u);  // nothing more until the peer sends

  // The server, unaware, sends; the closer answers with its CONNECTION_CLOSE again.
  ASSERT_TRUE(e.server->send(Channel::kSync, to_bytes("late"), true).ok());
  ASSERT_GE(e.move(*e.server, *e.client), 1u);
  ASSERT_EQ(e.move(*e.client, *e.server), 1u);
  const auto remote = Established::closed_event(*e.server);
  ASSERT_TRUE(remote);
  EXPECT_EQ(remote->reason, DisconnectReason::kRemoteClosed);
  EXPECT_NE(remote->detail.find("bye"), std::string::npos);
  EXPECT_TRUE(e.server->is_closed());
  EXPECT_FALSE(e.server->is_finished());
  EXPECT_EQ(e.server->send(Channel::kSync, to_bytes("x"), true).error().code, "NOT_CONNECTED");

  // Draining: nothing goes out, whatever arrives.
  ASSERT_TRUE(e.server->expiry());
  e.client->close(0, "again", e.pipe.now);  // no-op: already closed
  e.move(*e.client, *e.server);
  EXPECT_EQ(e.discard(*e.server), 0u);

  // Both periods end after three PTOs (about 80 ms here), not before.
  for (Connection* c : {e.client.get(), e.server.get()}) {
    const auto end = c->expiry();
    ASSERT_TRUE(end);
    EXPECT_GT(*end, e.pipe.now);
    EXPECT_LT(*end, e.pipe.now + std::chrono::seconds(1));
    c->handle_timeout(*end - std::chrono::milliseconds(1));
    EXPECT_FALSE(c->is_finished());
    c->handle_timeout(*end);
    EXPECT_TRUE(c->is_finished());
    EXPECT_FALSE(c->expiry());
    EXPECT_FALSE(Established::closed_event(*c));  // reported once, at the start
  }
}

// A flood of late packets draws fewer and fewer repeats of the CONNECTION_CLOSE (1st, 2nd,
// 4th, ... packet), so the closing endpoint cannot be made to send as much as it receives.
TEST(QuicConnection, ClosingAnswersLatePacketsAtADecreasingRate) {
  Established e;
  ASSERT_TRUE(e.server->send(Channel::kSync, to_bytes("late"), true).ok());
  std::size_t seg = 0;
  const std::size_t n = e.server->write_datagrams(e.buf, seg, 1, e.pipe.now);
  ASSERT_GT(n, 0u);
  const Bytes late(e.buf.begin(), e.buf.begin() + static_cast<std::ptrdiff_t>(n));
  e.client->close(0, "bye", e.pipe.now);
  e.discard(*e.client);
  std::size_t answers = 0;
  for (int i = 0; i < 100; ++i) {
    e.client->receive(late, e.pipe.now);
    answers += e.discard(*e.client);
  }
  EXPECT_EQ(answers, 7u);  // packets 1, 2, 4, 8, 16, 32, 64
}

// An ICMP error for a datagram sent to the peer ends the connection at once: nobody listens
// there any more, so there is no closing period either.
TEST(QuicConnection, UnreachableReportEndsTheConnection) {
  Established e;
  e.client->report_unreachable("ICMP port unreachable");
  const auto closed = Established::closed_event(*e.client);
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->reason, DisconnectReason::kNetworkError);
  EXPECT_NE(closed->detail.find("unreachable"), std::string::npos);
  EXPECT_TRUE(e.client->is_finished());
  EXPECT_EQ(e.discard(*e.client), 0u);
  e.client->report_unreachable("again");  // reported once
  EXPECT_FALSE(Established::closed_event(*e.client));
}

TEST(QuicStatelessReset, TokensAreKeyedAndWritesAreShorterThanTheTrigger) {
  const ResetKey k1 = reset_key_for(make_identity(1));
  const ResetKey k2 = reset_key_for(make_identity(2));
  EXPECT_EQ(k1, reset_key_for(make_identity(1)));
  EXPECT_NE(k1, k2);
  const Bytes cid(kCidLength, 0x11);
  const Bytes other(kCidLength, 0x22);
  EXPECT_EQ(stateless_reset_token(k1, cid), stateless_reset_token(k1, cid));
  EXPECT_NE(stateless_reset_token(k1, cid), stateless_reset_token(k1, other));
  EXPECT_NE(stateless_reset_token(k1, cid), stateless_reset_token(k2, cid));

  SeededRng rng(3);
  std::array<std::uint8_t, 64> out{};
  Bytes trigger(40, 0x41);  // short header (first bit 0)
  std::copy(cid.begin(), cid.end(), trigger.begin() + 1);
  const std::size_t n = write_stateless_reset(out, k1, trigger, rng);
  ASSERT_EQ(n, 39u);
  EXPECT_EQ(out[0] & 0x80, 0);  // looks like a short-header packet
  const auto token = stateless_reset_token(k1, cid);
  EXPECT_TRUE(std::equal(token.begin(), token.end(), out.begin() + n - token.size()));
  trigger.resize(200);
  EXPECT_EQ(write_stateless_reset(out, k1, trigger, rng), 43u);
  // Never in answer to a long header, nor to a packet too short to answer with a shorter one.
  Bytes long_header = trigger;
  long_header[0] = 0xc0;
  EXPECT_EQ(write_stateless_reset(out, k1, long_header, rng), 0u);
  EXPECT_EQ(write_stateless_reset(out, k1, Bytes(21, 0x41), rng), 0u);
  EXPECT_EQ(write_stateless_reset(out, k1, Bytes(), rng), 0u);
}

// A server whose state is gone answers with a reset made from its key; the client recognises
// its peer's token, reports kNetworkError and drains. A reset with a wrong token is nothing.
TEST(QuicStatelessReset, ClientRecognisesTheServersReset) {
  SeededRng client_rng(31);
  SeededRng server_rng(32);
  SeededRng rng(33);
  Pipe pipe;
  const ResetKey key = reset_key_for(make_identity(2));
  ConnectionOptions co = options(1, "peat/sync/1");
  co.expected_peer = peer_id_from_public_key(make_identity(2).public_key);
  auto client =
      Connection::connect(co, endpoint(1000), endpoint(2000), client_rng, pipe.now).value();
  std::vector<std::uint8_t> buf(65536);
  std::size_t seg = 0;
  client->write_datagrams(buf, seg, 1, pipe.now);
  ConnectionOptions so = options(2, "peat/sync/1");
  so.reset_key = key;
  auto server = Connection::accept(so, endpoint(2000), endpoint(1000), ByteView(buf.data(), seg),
                                   server_rng, pipe.now)
                    .value();
  pipe.pump(*client, *server);
  ASSERT_TRUE(client->is_established());

  // The client's next packet reaches a server that lost the connection.
  ASSERT_TRUE(client->send(Channel::kSync, to_bytes("anyone?"), true).ok());
  const std::size_t n = client->write_datagrams(buf, seg, 1, pipe.now);
  ASSERT_GT(n, 0u);
  const Bytes trigger(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
  std::array<std::uint8_t, 64> reset{};
  const std::size_t wrong =
      write_stateless_reset(reset, reset_key_for(make_identity(9)), trigger, rng);
  ASSERT_GT(wrong, 0u);
  EXPECT_FALSE(client->receive_unrouted(ByteView(reset.data(), wrong), pipe.now));
  const std::size_t r = write_stateless_reset(reset, key, trigger, rng);
  ASSERT_GT(r, 0u);
  EXPECT_TRUE(client->receive_unrouted(ByteView(reset.data(), r), pipe.now));
  std::optional<ConnectionEvent> closed;
  while (auto e = client->poll_event()) {
    if (e->type == ConnectionEventType::kClosed) closed = std::move(*e);
  }
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->reason, DisconnectReason::kNetworkError);
  EXPECT_NE(closed->detail.find("stateless reset"), std::string::npos);
  EXPECT_TRUE(client->is_closed());
  EXPECT_EQ(client->write_datagrams(buf, seg, 64, pipe.now), 0u);  // draining: silent
}

TEST(QuicConnection, RecoversFromPacketLoss) {
  SeededRng client_rng(6);
  SeededRng server_rng(7);
  Pipe pipe;
  // Internet-sized packets (not the loopback size), so the message spans many of them.
  ConnectionOptions co = options(1, "peat/sync/1");
  ConnectionOptions so = options(2, "peat/sync/1");
  co.settings.loopback_udp_payload = 0;
  so.settings.loopback_udp_payload = 0;
  auto client = Connection::connect(co, endpoint(1000), endpoint(2000), client_rng, pipe.now);
  ASSERT_TRUE(client.ok());
  std::vector<std::uint8_t> buf(64 * 1500);
  std::size_t seg = 0;
  const std::size_t n = (*client)->write_datagrams(buf, seg, 64, pipe.now);
  ASSERT_GT(n, 0u);
  auto server = Connection::accept(so, endpoint(2000), endpoint(1000), ByteView(buf.data(), seg),
                                   server_rng, pipe.now);
  ASSERT_TRUE(server.ok());
  pipe.pump(**client, **server);
  ASSERT_TRUE((*client)->is_established());
  pipe.drop_every = 5;  // 20% loss both ways from here on
  Bytes big(400'000);
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<std::uint8_t>(i * 7);
  ASSERT_TRUE((*client)->send(Channel::kBlobs, big, true).ok());
  ASSERT_TRUE((*client)->send(Channel::kBlobs, to_bytes("after"), true).ok());
  pipe.pump(**client, **server, 3000);
  std::vector<Bytes> got;
  for (const auto& e : pipe.server_events) {
    if (e.type == ConnectionEventType::kMessage) got.push_back(e.data);
  }
  ASSERT_EQ(got.size(), 2u);
  EXPECT_TRUE(got[0] == big);
  EXPECT_EQ(as_chars(got[1]), "after");
  EXPECT_GT((*client)->stats().packets_lost, 0u);
}

// Bulk data between two loopback addresses travels in loopback-sized packets; between other
// addresses packets stay within what PMTUD allows (1452 bytes).
TEST(QuicConnection, LargePacketsOnlyBetweenLoopbackAddresses) {
  for (const bool loopback : {true, false}) {
    SeededRng client_rng(8);
    SeededRng server_rng(9);
    Pipe pipe;
    const std::uint32_t a = loopback ? 0x7f000001 : 0x0a000001;
    const std::uint32_t b = loopback ? 0x7f000002 : 0x0a000002;
    auto client = Connection::connect(options(1, "peat/sync/1"), endpoint(1000, a),
                                      endpoint(2000, b), client_rng, pipe.now);
    ASSERT_TRUE(client.ok());
    std::vector<std::uint8_t> buf(65536);
    std::size_t seg = 0;
    ASSERT_GT((*client)->write_datagrams(buf, seg, 64, pipe.now), 0u);
    EXPECT_EQ(seg, 1200u);  // handshake packets keep the size every path carries
    auto server =
        Connection::accept(options(2, "peat/sync/1"), endpoint(2000, b), endpoint(1000, a),
                           ByteView(buf.data(), seg), server_rng, pipe.now);
    ASSERT_TRUE(server.ok());
    pipe.pump(**client, **server);
    ASSERT_TRUE((*client)->is_established());
    EXPECT_LE(pipe.largest, 1452u);  // the whole handshake, Initial padding included
    pipe.largest = 0;
    const Bytes big(300'000, 0x3c);
    ASSERT_TRUE((*client)->send(Channel::kBlobs, big, true).ok());
    pipe.pump(**client, **server, 2000);
    std::size_t delivered = 0;
    for (const auto& e : pipe.server_events) {
      if (e.type == ConnectionEventType::kMessage && e.data == big) ++delivered;
    }
    EXPECT_EQ(delivered, 1u) << "loopback=" << loopback;
    if (loopback) {
      EXPECT_GT(pipe.largest, 1452u);
      EXPECT_LE(pipe.largest, QuicSettings{}.loopback_udp_payload);
    } else {
      EXPECT_LE(pipe.largest, 1452u);
    }
  }
}

// NAT rebinding seen by the server: the client's packets suddenly come from another port. The
// server validates the new path, sends there from then on, and messages keep flowing both ways.
TEST(QuicConnection, ServerFollowsTheClientToANewAddress) {
  SeededRng client_rng(10);
  SeededRng server_rng(11);
  Pipe pipe;
  auto client = Connection::connect(options(1, "peat/sync/1"), endpoint(1000), endpoint(2000),
                                    client_rng, pipe.now);
  ASSERT_TRUE(client.ok());
  std::vector<std::uint8_t> buf(65536);
  std::size_t seg = 0;
  ASSERT_GT((*client)->write_datagrams(buf, seg, 64, pipe.now), 0u);
  auto server = Connection::accept(options(2, "peat/sync/1"), endpoint(2000), endpoint(1000),
                                   ByteView(buf.data(), seg), server_rng, pipe.now);
  ASSERT_TRUE(server.ok());
  pipe.pump(**client, **server);
  ASSERT_TRUE((*client)->is_established());
  EXPECT_TRUE(Pipe::same((*server)->destination(), endpoint(1000)));

  pipe.client_from = endpoint(1001);
  const Bytes big(200'000, 0x42);
  ASSERT_TRUE((*client)->send(Channel::kBlobs, big, true).ok());
  pipe.pump(**client, **server, 2000);
  ASSERT_TRUE((*server)->send(Channel::kSync, to_bytes("reply"), true).ok());
  pipe.pump(**client, **server, 2000);
  EXPECT_TRUE(Pipe::same((*server)->destination(), endpoint(1001)));
  bool got_big = false;
  for (const auto& e : pipe.server_events) {
    if (e.type == ConnectionEventType::kMessage && e.data == big) got_big = true;
  }
  bool got_reply = false;
  for (const auto& e : pipe.client_events) {
    if (e.type == ConnectionEventType::kMessage && as_chars(e.data) == "reply") got_reply = true;
  }
  EXPECT_TRUE(got_big);
  EXPECT_TRUE(got_reply);
  EXPECT_FALSE(has(pipe.client_events, ConnectionEventType::kClosed));
  EXPECT_FALSE(has(pipe.server_events, ConnectionEventType::kClosed));
}

TEST(QuicConnection, AcceptRejectsNonInitialBytes) {
  SeededRng rng(3);
  const Bytes junk(1300, 0x41);
  auto r =
      Connection::accept(options(2, "peat/sync/1"), endpoint(1), endpoint(2), junk, rng, Instant{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "NOT_INITIAL");
  EXPECT_FALSE(destination_cid(Bytes{}).has_value());
  EXPECT_FALSE(is_initial_packet(Bytes{0xc0}));
}

TEST(QuicConnection, TruncatedAndCorruptedPacketsAreHarmless) {
  SeededRng client_rng(4);
  SeededRng server_rng(5);
  Pipe pipe;
  auto client = Connection::connect(options(1, "peat/sync/1"), endpoint(1000), endpoint(2000),
                                    client_rng, pipe.now);
  ASSERT_TRUE(client.ok());
  std::vector<std::uint8_t> buf(64 * 1500);
  std::size_t seg = 0;
  const std::size_t n = (*client)->write_datagrams(buf, seg, 64, pipe.now);
  ASSERT_GE(n, 1200u);
  const Bytes initial(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(seg));
  // Every truncation of a real Initial: refused as "not an Initial" or absorbed, never a crash.
  for (std::size_t len = 0; len < initial.size(); len += 7) {
    const ByteView cut(initial.data(), len);
    (void)destination_cid(cut);
    auto server = Connection::accept(options(2, "peat/sync/1"), endpoint(2000), endpoint(1000), cut,
                                     server_rng, pipe.now);
    if (server.ok()) {
      EXPECT_FALSE((*server)->is_established());
    }
  }
  // A server that accepted the real Initial shrugs off corrupted copies of it.
  auto server = Connection::accept(options(2, "peat/sync/1"), endpoint(2000), endpoint(1000),
                                   initial, server_rng, pipe.now);
  ASSERT_TRUE(server.ok());
  for (std::size_t i = 0; i < 64; ++i) {
    Bytes bad = initial;
    bad[(i * 131) % bad.size()] ^= static_cast<std::uint8_t>(1u << (i % 8));
    (*server)->receive(bad, pipe.now);
    (*server)->receive(ByteView(bad.data(), bad.size() / 2), pipe.now);
  }
  EXPECT_FALSE((*server)->is_finished());
  pipe.pump(**client, **server);
  EXPECT_TRUE((*client)->is_established());
  EXPECT_TRUE((*server)->is_established());
}

TEST(QuicConfig, PeerIdIsTruncatedSha256OfKey) {
  const PublicKey key = make_identity(5).public_key;
  const Sha256Digest d = Sha256::digest(key);
  EXPECT_EQ(peer_id_from_public_key(key), to_hex(ByteView(d.data(), 16)));
  EXPECT_EQ(peer_id_from_public_key(key).size(), 32u);
}

TEST(QuicConfig, AlpnMapsToChannels) {
  EXPECT_EQ(channel_for_alpn("peat/sync/1"), Channel::kSync);
  EXPECT_EQ(channel_for_alpn("peat/enroll/1"), Channel::kEnrollment);
  EXPECT_EQ(channel_for_alpn("peat/blobs/1"), Channel::kBlobs);
  EXPECT_FALSE(channel_for_alpn("cap/automerge/1").has_value());
  EXPECT_EQ(alpn_for_channel(Channel::kEnrollment), kAlpnEnroll);
  EXPECT_EQ(alpn_for_channel(Channel::kControl), kAlpnSync);
  EXPECT_TRUE(channel_allowed(kAlpnSync, Channel::kBlobs));
  EXPECT_TRUE(channel_allowed(kAlpnEnroll, Channel::kControl));
  EXPECT_FALSE(channel_allowed(kAlpnEnroll, Channel::kSync));
  EXPECT_FALSE(channel_allowed(kAlpnBlobs, Channel::kSync));
  EXPECT_FALSE(channel_allowed("other", Channel::kControl));
}

TEST(QuicConfig, IdentityMustMatchSeed) {
  Identity id = make_identity(1);
  id.public_key[0] ^= 1;
  auto r = TlsIdentity::create(id);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "INVALID_IDENTITY");
}

}  // namespace
}  // namespace peat::transport::quic
