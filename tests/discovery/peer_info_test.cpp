#include "peat/discovery/peer_info.hpp"

#include <gtest/gtest.h>

#include "peat/discovery/peer_table.hpp"
#include "peat/discovery/strategy.hpp"

namespace peat::discovery {
namespace {

using namespace std::chrono_literals;

TEST(SocketAddress, ParsesIpv4AndBracketedIpv6) {
  auto v4 = parse_socket_address("10.0.0.1:5000");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->host, "10.0.0.1");
  EXPECT_EQ(v4->port, 5000);
  auto v6 = parse_socket_address("[::1]:5000");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(format_socket_address(*v6), "[::1]:5000");
  EXPECT_EQ(format_socket_address(*v4), "10.0.0.1:5000");
}

TEST(SocketAddress, RejectsBadInput) {
  for (const char* bad : {"", "10.0.0.1", "10.0.0.1:", "10.0.0.1:65536", "10.0.0.1:-1",
                          "10.0.0.1:5x", "host.example:5000", "::1:5000", "[::1]5000", "[::1:5000",
                          "[10.0.0.1]:5000", "256.0.0.1:1", ":5000"}) {
    auto r = parse_socket_address(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, "INVALID_ADDRESS") << bad;
  }
}

TEST(PeerInfoJson, RoundTripsRustShape) {
  PeerInfo p;
  p.node_id = "node-1";
  p.addresses = {{"10.0.0.1", 5000}, {"fd00::2", 6000}};
  p.relay_url = "https://relay.example.com";
  p.metadata["role"] = "leader";
  const std::string json = to_json(p);
  EXPECT_EQ(json, R"({"node_id":"node-1","addresses":["10.0.0.1:5000","[fd00::2]:6000"],)"
                  R"("relay_url":"https://relay.example.com","metadata":{"role":"leader"}})");
  auto back = peer_info_from_json(json, Instant{} + 5s);
  ASSERT_TRUE(back);
  EXPECT_TRUE(back->same_content(p));
  EXPECT_EQ(back->last_seen, Instant{} + 5s);

  p.relay_url.reset();
  EXPECT_NE(to_json(p).find(R"("relay_url":null)"), std::string::npos);
}

TEST(PeerInfoJson, RejectsBadDocuments) {
  for (const char* bad : {"", "[]", "{", R"({"addresses":[],"metadata":{}})",
                          R"({"node_id":1,"addresses":[],"metadata":{}})",
                          R"({"node_id":"a","addresses":"x","metadata":{}})",
                          R"({"node_id":"a","addresses":["nope"],"metadata":{}})",
                          R"({"node_id":"a","addresses":[1],"metadata":{}})",
                          R"({"node_id":"a","addresses":[],"relay_url":5,"metadata":{}})",
                          R"({"node_id":"a","addresses":[]})",
                          R"({"node_id":"a","addresses":[],"metadata":{"k":1}})"}) {
    auto r = peer_info_from_json(bad, Instant{});
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, "INVALID_JSON") << bad;
  }
}

TEST(DiscoveryError, MessagesMatchRustDisplay) {
  EXPECT_EQ(mdns_error("timeout").message, "mDNS error: timeout");
  EXPECT_EQ(config_error("bad toml").message, "Configuration error: bad toml");
  EXPECT_EQ(stream_consumed_error().message, "Event stream already consumed");
  EXPECT_EQ(kubernetes_error("x").message, "Kubernetes API error: x");
  EXPECT_EQ(io_error("gone").message, "I/O error: gone");
}

PeerInfo peer(const std::string& id, std::uint16_t port = 5000) {
  PeerInfo p;
  p.node_id = id;
  p.addresses = {{"10.0.0.1", port}};
  return p;
}

TEST(PeerTable, FoundUpdatedAndSilentRefresh) {
  PeerTable t;
  const Instant t0 = Instant{} + 1h;
  auto e1 = t.observe(peer("a"), t0);
  ASSERT_TRUE(e1);
  EXPECT_TRUE(std::holds_alternative<PeerFound>(*e1));
  EXPECT_FALSE(t.observe(peer("a"), t0 + 1s));  // only last_seen moved
  EXPECT_EQ(t.find("a")->last_seen, t0 + 1s);
  auto e2 = t.observe(peer("a", 6000), t0 + 2s);
  ASSERT_TRUE(e2);
  EXPECT_TRUE(std::holds_alternative<PeerUpdated>(*e2));
  auto lost = t.remove("a");
  ASSERT_TRUE(lost);
  EXPECT_EQ(std::get<PeerLost>(*lost).node_id, "a");
  EXPECT_FALSE(t.remove("a"));
}

TEST(PeerTable, ExpiresAfterTtlWithPassedInClock) {
  PeerTable t(30s);
  const Instant t0 = Instant{} + 1h;
  (void)t.observe(peer("a"), t0);
  (void)t.observe(peer("b"), t0 + 10s);
  EXPECT_EQ(t.next_expiry(), t0 + 30s);
  EXPECT_TRUE(t.expire(t0 + 30s).empty());  // exactly at the TTL: still alive
  auto lost = t.expire(t0 + 31s);
  ASSERT_EQ(lost.size(), 1u);
  EXPECT_EQ(event_node_id(lost[0]), "a");
  EXPECT_TRUE(t.contains("b"));
  EXPECT_EQ(t.expire(t0 + 41s).size(), 1u);
  EXPECT_EQ(t.size(), 0u);
  EXPECT_FALSE(t.next_expiry());
}

TEST(PeerTable, NoTtlNeverExpires) {
  PeerTable t;
  (void)t.observe(peer("a"), Instant{});
  EXPECT_TRUE(t.expire(Instant{} + 1000h).empty());
  EXPECT_FALSE(t.next_expiry());
}

class Dummy final : public DiscoveryStrategy {
 public:
  Status start() override {
    emit(PeerFound{peer("x")});
    return {};
  }
  Status stop() override { return {}; }
  std::vector<PeerInfo> discovered_peers() const override { return {}; }
};

TEST(DiscoveryStrategy, EventStreamCanBeTakenOnce) {
  Dummy d;
  auto s = d.event_stream();
  ASSERT_TRUE(s);
  auto again = d.event_stream();
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, "EVENT_STREAM_CONSUMED");
  int notified = 0;
  (*s)->set_notify([&] { ++notified; });
  ASSERT_TRUE(d.start());
  EXPECT_EQ(notified, 1);
  auto e = (*s)->try_next();
  ASSERT_TRUE(e);
  EXPECT_EQ(event_node_id(*e), "x");
  EXPECT_FALSE((*s)->try_next());
  EXPECT_TRUE(d.advertise("me", 1));  // default advertise: success, nothing to do
}

}  // namespace
}  // namespace peat::discovery
