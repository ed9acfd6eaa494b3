#include "peat/discovery/static_discovery.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "discovery/fake_clock.hpp"

namespace peat::discovery {
namespace {

using testing::FakeClock;

constexpr const char* kExample = R"(
[[peers]]
node_id = "hq-alpha"
addresses = ["10.0.0.100:5000", "192.168.1.100:5000"]
relay_url = "https://relay.example.com:3479"
priority = 255

[peers.metadata]
role = "company-hq"

[[peers]]
node_id = "squad-1"
addresses = ["[fd00::1]:6000", "not-an-address"]

[[peers]]
node_id = "nowhere"
addresses = ["bogus"]
)";

std::vector<DiscoveryEvent> drain(const std::shared_ptr<EventStream>& s) {
  return s->drain();
}

TEST(StaticConfig, ParsesRustKeys) {
  auto c = parse_static_config(kExample, "peers.toml");
  ASSERT_TRUE(c) << c.error().to_string();
  ASSERT_EQ(c->peers.size(), 3u);
  const auto& hq = c->peers[0];
  EXPECT_EQ(hq.node_id, "hq-alpha");
  EXPECT_EQ(hq.addresses.size(), 2u);
  EXPECT_EQ(hq.relay_url, "https://relay.example.com:3479");
  EXPECT_EQ(hq.priority, 255);
  EXPECT_EQ(hq.metadata.at("role"), "company-hq");
  EXPECT_EQ(c->peers[1].priority, 128);  // default
  EXPECT_FALSE(c->peers[1].relay_url);
}

TEST(StaticConfig, EmptyFileHasNoPeers) {
  auto c = parse_static_config("", "empty.toml");
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->peers.empty());
}

struct BadCase {
  const char* text;
  const char* expected;  // substring of the message, including file:line
};

TEST(StaticConfig, BadFilesGiveFileLineMessages) {
  const BadCase cases[] = {
      {"[[peers]]\nnode_id = \"a\"\naddresses = [\"1.2.3.4:1\"\n", "f.toml:3: "},
      {"[[peers]]\naddresses = [\"1.2.3.4:1\"]\n",
       "f.toml:1: peer is missing required key 'node_id'"},
      {"[[peers]]\nnode_id = \"a\"\n", "f.toml:1: peer is missing required key 'addresses'"},
      {"[[peers]]\nnode_id = 5\naddresses = []\n", "f.toml:2: 'node_id' must be a string"},
      {"[[peers]]\nnode_id = \"a\"\naddresses = \"1.2.3.4:1\"\n", "f.toml:3: 'addresses' must be"},
      {"[[peers]]\nnode_id = \"a\"\naddresses = [1]\n",
       "f.toml:3: 'addresses' entries must be strings"},
      {"[[peers]]\nnode_id = \"a\"\naddresses = []\npriority = 256\n",
       "f.toml:4: 'priority' must be in 0..255"},
      {"[[peers]]\nnode_id = \"a\"\naddresses = []\npriority = \"high\"\n",
       "f.toml:4: 'priority' must be an integer"},
      {"[[peers]]\nnode_id = \"a\"\naddresses = []\nrelay_url = 1\n",
       "f.toml:4: 'relay_url' must be a string"},
      {"[[peers]]\nnode_id = \"a\"\naddresses = []\nmetadata = 1\n",
       "f.toml:4: 'metadata' must be a table"},
      {"[[peers]]\nnode_id = \"a\"\naddresses = []\n[peers.metadata]\nk = 1\n",
       "f.toml:5: metadata value 'k' must be a string"},
      {"peers = 3\n", "f.toml:1: 'peers' must be an array of tables"},
      {"x = \n", "f.toml:1: "},
  };
  for (const auto& c : cases) {
    auto r = parse_static_config(c.text, "f.toml");
    ASSERT_FALSE(r) << c.text;
    EXPECT_EQ(r.error().code, "CONFIG_ERROR");
    EXPECT_NE(r.error().message.find("Configuration error: Failed to parse TOML config: "),
              std::string::npos)
        << r.error().message;
    EXPECT_NE(r.error().message.find(c.expected), std::string::npos)
        << r.error().message << "\nexpected: " << c.expected;
  }
}

TEST(StaticConfig, MissingFileIsReadError) {
  auto r = load_static_config("/nonexistent/peat/peers.toml");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "CONFIG_ERROR");
  EXPECT_NE(r.error().message.find("Failed to read config file: /nonexistent/peat/peers.toml"),
            std::string::npos);
}

TEST(StaticConfig, ToTomlRoundTrips) {
  auto c = parse_static_config(kExample, "x");
  ASSERT_TRUE(c);
  auto back = parse_static_config(to_toml(*c), "y");
  ASSERT_TRUE(back) << back.error().to_string();
  ASSERT_EQ(back->peers.size(), c->peers.size());
  for (std::size_t i = 0; i < c->peers.size(); ++i) {
    EXPECT_EQ(back->peers[i].node_id, c->peers[i].node_id);
    EXPECT_EQ(back->peers[i].addresses, c->peers[i].addresses);
    EXPECT_EQ(back->peers[i].relay_url, c->peers[i].relay_url);
    EXPECT_EQ(back->peers[i].priority, c->peers[i].priority);
    EXPECT_EQ(back->peers[i].metadata, c->peers[i].metadata);
  }
}

TEST(StaticDiscovery, StartEmitsFoundInFileOrderSkippingUnreachable) {
  FakeClock clock;
  StaticDiscovery d(*parse_static_config(kExample, "x"), clock);
  auto stream = *d.event_stream();
  ASSERT_TRUE(d.start());
  auto events = drain(stream);
  ASSERT_EQ(events.size(), 2u);
  const auto& hq = std::get<PeerFound>(events[0]).peer;
  EXPECT_EQ(hq.node_id, "hq-alpha");
  EXPECT_EQ(hq.addresses.size(), 2u);
  EXPECT_EQ(hq.relay_url, "https://relay.example.com:3479");
  EXPECT_EQ(hq.last_seen, clock.now());
  const auto& squad = std::get<PeerFound>(events[1]).peer;
  EXPECT_EQ(squad.node_id, "squad-1");
  ASSERT_EQ(squad.addresses.size(), 1u);  // the bad entry is dropped
  EXPECT_EQ(squad.addresses[0].host, "fd00::1");
  EXPECT_EQ(d.discovered_peers().size(), 2u);

  ASSERT_TRUE(d.start());  // idempotent: no duplicates
  EXPECT_TRUE(drain(stream).empty());
  ASSERT_TRUE(d.stop());
  EXPECT_TRUE(drain(stream).empty());  // static peers are never lost on stop
}

TEST(StaticDiscovery, ReloadDiffsAgainstCurrentList) {
  FakeClock clock;
  StaticDiscovery d(*parse_static_config(kExample, "x"), clock);
  auto stream = *d.event_stream();
  ASSERT_TRUE(d.start());
  (void)drain(stream);

  auto next = parse_static_config(R"(
[[peers]]
node_id = "hq-alpha"
addresses = ["10.0.0.100:5000"]
[[peers]]
node_id = "new-one"
addresses = ["10.0.0.9:5000"]
)",
                                  "x");
  ASSERT_TRUE(next);
  d.reload(*next);
  auto events = drain(stream);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(std::get<PeerLost>(events[0]).node_id, "squad-1");
  EXPECT_EQ(std::get<PeerUpdated>(events[1]).peer.node_id, "hq-alpha");
  EXPECT_EQ(std::get<PeerFound>(events[2]).peer.node_id, "new-one");
}

TEST(StaticDiscovery, FromFileAndReloadFile) {
  const std::string path = ::testing::TempDir() + "peat_static_peers.toml";
  { std::ofstream(path) << "[[peers]]\nnode_id = \"a\"\naddresses = [\"127.0.0.1:1\"]\n"; }
  auto d = StaticDiscovery::from_file(path);
  ASSERT_TRUE(d) << d.error().to_string();
  auto stream = *(*d)->event_stream();
  ASSERT_TRUE((*d)->start());
  EXPECT_EQ(drain(stream).size(), 1u);
  { std::ofstream(path) << "[[peers]]\nnode_id = \"a\"\naddresses = [\"127.0.0.1:1\"\n"; }
  auto bad = (*d)->reload_file();
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find(path + ":"), std::string::npos) << bad.error().message;
  EXPECT_EQ((*d)->discovered_peers().size(), 1u);  // kept on error
  { std::ofstream(path) << ""; }
  ASSERT_TRUE((*d)->reload_file());
  auto events = drain(stream);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<PeerLost>(events[0]));
  std::remove(path.c_str());
}

TEST(StaticDiscovery, ReloadWithoutFileIsConfigError) {
  StaticDiscovery d({});
  auto r = d.reload_file();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "CONFIG_ERROR");
}

}  // namespace
}  // namespace peat::discovery
