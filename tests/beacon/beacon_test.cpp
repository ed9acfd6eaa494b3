#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "beacon/manual_loop.hpp"
#include "peat/beacon/broadcaster.hpp"
#include "peat/beacon/config.hpp"
#include "peat/beacon/geohash.hpp"
#include "peat/beacon/janitor.hpp"
#include "peat/beacon/observer.hpp"
#include "peat/beacon/types.hpp"

using namespace peat::beacon;

namespace {
constexpr std::uint64_t kNow = 1'700'000'000;

GeographicBeacon sample() {
  auto b = GeographicBeacon::make("node-1", {37.7749, -122.4194, std::nullopt},
                                  HierarchyLevel::kSquad, kNow);
  return b;
}
}  // namespace

TEST(BeaconTypes, LevelsOrderAndRelations) {
  EXPECT_LT(HierarchyLevel::kPlatform, HierarchyLevel::kSquad);
  EXPECT_EQ(parent_level(HierarchyLevel::kSquad), HierarchyLevel::kPlatoon);
  EXPECT_EQ(parent_level(HierarchyLevel::kCompany), std::nullopt);
  EXPECT_EQ(child_level(HierarchyLevel::kPlatform), std::nullopt);
  EXPECT_TRUE(can_be_parent_of(HierarchyLevel::kCompany, HierarchyLevel::kPlatform));
  EXPECT_FALSE(can_be_parent_of(HierarchyLevel::kSquad, HierarchyLevel::kSquad));
}

TEST(BeaconTypes, HaversineSanFranciscoToLosAngeles) {
  GeoPosition sf{37.7749, -122.4194, std::nullopt};
  GeoPosition la{34.0522, -118.2437, std::nullopt};
  EXPECT_GT(sf.distance_to(la), 550'000);
  EXPECT_LT(sf.distance_to(la), 570'000);
}

TEST(BeaconTypes, MinimalJsonShapeMatchesSerde) {
  auto b = sample();
  EXPECT_EQ(to_json(b),
            R"({"node_id":"node-1","position":{"lat":37.7749,"lon":-122.4194},)"
            R"("geohash":"9q8yyk8","hierarchy_level":"Squad","capabilities":[],)"
            R"("operational":true,"timestamp":1700000000,"can_parent":false,"parent_priority":0})");
}

TEST(BeaconTypes, FullJsonRoundTrip) {
  auto b = sample();
  b.position.alt = 12.5;
  b.add_capability("sensor");
  b.add_capability("sensor");
  b.apply_profile(NodeProfile::semi_mobile_node({4, 2048, 50, 10, 20, 80}));
  b.metadata["callsign"] = "alpha";
  EXPECT_EQ(b.capabilities.size(), 1u);
  auto j = nlohmann::json::parse(to_json(b));
  EXPECT_EQ(j["mobility"], "SemiMobile");
  EXPECT_EQ(j["resources"]["battery_percent"], 80);
  EXPECT_EQ(j["parent_priority"], 128);
  auto back = beacon_from_json(to_json(b)).value();
  EXPECT_EQ(back.position, b.position);
  EXPECT_EQ(back.resources, b.resources);
  EXPECT_EQ(back.mobility, b.mobility);
  EXPECT_EQ(back.metadata, b.metadata);
  EXPECT_EQ(back.capabilities, b.capabilities);
  EXPECT_TRUE(back.can_parent);
}

TEST(BeaconTypes, DefaultsForOptionalFields) {
  auto b = beacon_from_json(
               R"({"node_id":"n","position":{"lat":1,"lon":2},"geohash":"s01mtw0",)"
               R"("hierarchy_level":"Platoon","operational":false,"timestamp":5,"mobility":null})")
               .value();
  EXPECT_TRUE(b.capabilities.empty());
  EXPECT_FALSE(b.can_parent);
  EXPECT_EQ(b.mobility, std::nullopt);
  EXPECT_EQ(b.hierarchy_level, HierarchyLevel::kPlatoon);
}

TEST(BeaconTypes, BadJsonRejectedCleanly) {
  const char* cases[] = {
      "",
      "not json",
      "[]",
      R"({"node_id":"n"})",
      R"({"node_id":1,"position":{"lat":1,"lon":2},"geohash":"x","hierarchy_level":"Squad","operational":true,"timestamp":1})",
      R"({"node_id":"n","position":{"lat":"1","lon":2},"geohash":"x","hierarchy_level":"Squad","operational":true,"timestamp":1})",
      R"({"node_id":"n","position":{"lat":1,"lon":2},"geohash":"x","hierarchy_level":"General","operational":true,"timestamp":1})",
      R"({"node_id":"n","position":{"lat":1,"lon":2},"geohash":"x","hierarchy_level":"Squad","operational":true,"timestamp":-1})",
      R"({"node_id":"n","position":{"lat":1,"lon":2},"geohash":"x","hierarchy_level":"Squad","operational":true,"timestamp":1,"parent_priority":256})",
      R"({"node_id":"n","position":{"lat":1,"lon":2},"geohash":"x","hierarchy_level":"Squad","operational":true,"timestamp":1,"resources":{"cpu_cores":1}})",
      R"({"node_id":"n","position":{"lat":1,"lon":2},"geohash":"x","hierarchy_level":"Squad","operational":true,"timestamp":1,"capabilities":[1]})",
  };
  for (const char* c : cases) {
    auto r = beacon_from_json(c);
    ASSERT_FALSE(r.ok()) << c;
    EXPECT_EQ(r.error().code, "INVALID_BEACON") << c;
  }
}

TEST(BeaconTypes, AgeAndExpiry) {
  auto b = sample();
  EXPECT_EQ(b.age_seconds(kNow - 10), 0u);
  EXPECT_EQ(b.age_seconds(kNow + 30), 30u);
  EXPECT_FALSE(b.is_expired(30, kNow + 30));
  EXPECT_TRUE(b.is_expired(30, kNow + 31));
  auto out = GeographicBeacon::make("x", {91, 0, std::nullopt}, HierarchyLevel::kSquad, kNow);
  EXPECT_EQ(out.geohash, "invalid");
}

TEST(BeaconTypes, ParentingRequirements) {
  NodeResources good{4, 2048, 50, 10, 20, std::nullopt};
  EXPECT_TRUE(NodeProfile::static_node(good).is_parent_candidate());
  EXPECT_FALSE(NodeProfile::mobile_node(good).is_parent_candidate());
  auto low_battery = good;
  low_battery.battery_percent = 10;
  EXPECT_FALSE(NodeProfile::static_node(low_battery).is_parent_candidate());
  auto busy = good;
  busy.cpu_usage_percent = 80;
  EXPECT_FALSE(NodeProfile::semi_mobile_node(busy).is_parent_candidate());
}

TEST(BeaconConfigTest, Presets) {
  EXPECT_EQ(BeaconConfig::defaults().geohash_precision, 7u);
  EXPECT_EQ(BeaconConfig::tactical().ttl, std::chrono::seconds(15));
  EXPECT_TRUE(BeaconConfig::distributed().track_all);
  EXPECT_EQ(BeaconConfig::hybrid().max_distance_meters, 10000.0);
}

TEST(BeaconObserverTest, StoresNearbyAndIndexes) {
  auto me = sample();
  BeaconObserver obs({"me", me.geohash, false, 30, 100});
  auto b = sample();
  ASSERT_TRUE(obs.ingest(peat::as_bytes(to_json(b)), kNow).ok());
  EXPECT_EQ(obs.size(), 1u);
  EXPECT_EQ(obs.query_by_geohash("9q8yy").size(), 1u);
  EXPECT_TRUE(obs.query_by_geohash("9q9").empty());
  // A neighbour cell is accepted too.
  auto near = GeographicBeacon::make("node-2", {37.7749, -122.4194, std::nullopt},
                                     HierarchyLevel::kPlatform, kNow);
  auto nb = peat::beacon::geohash::neighbor(me.geohash, geohash::Direction::kN).value();
  auto centre = geohash::decode(nb).value().centre;
  near.set_position({centre.lat, centre.lon, std::nullopt});
  EXPECT_TRUE(obs.ingest(near, kNow).ok());
  EXPECT_EQ(obs.nearby().size(), 2u);
}

TEST(BeaconObserverTest, RejectsInvalidFarStaleOwnExpired) {
  auto me = sample();
  BeaconObserver obs({"node-1", me.geohash, false, 30, 100});
  EXPECT_EQ(obs.ingest(me, kNow).error().code, "OWN_BEACON");
  auto far = GeographicBeacon::make("far", {34.0522, -118.2437, std::nullopt},
                                    HierarchyLevel::kSquad, kNow);
  EXPECT_EQ(obs.ingest(far, kNow).error().code, "OUT_OF_RANGE");
  auto lying = sample();
  lying.node_id = "liar";
  lying.geohash = "9q8yyzz";
  EXPECT_EQ(obs.ingest(lying, kNow).error().code, "INVALID_BEACON");
  auto old = sample();
  old.node_id = "old";
  EXPECT_EQ(obs.ingest(old, kNow + 31).error().code, "BEACON_EXPIRED");
  auto fresh = sample();
  fresh.node_id = "peer";
  fresh.timestamp = kNow + 10;
  ASSERT_TRUE(obs.ingest(fresh, kNow + 10).ok());
  auto stale = fresh;
  stale.timestamp = kNow + 5;
  EXPECT_EQ(obs.ingest(stale, kNow + 10).error().code, "STALE_BEACON");
  EXPECT_EQ(obs.ingest(peat::as_bytes("{"), kNow).error().code, "INVALID_BEACON");
}

TEST(BeaconObserverTest, MovingAwayEvictsAndListenerSeesChanges) {
  auto me = sample();
  BeaconObserver obs({"me", me.geohash, false, 30, 100});
  std::vector<BeaconChange> changes;
  obs.set_listener([&](BeaconChange c, const GeographicBeacon&) { changes.push_back(c); });
  auto b = sample();
  ASSERT_TRUE(obs.ingest(b, kNow).ok());
  b.timestamp += 1;
  ASSERT_TRUE(obs.ingest(b, kNow + 1).ok());
  b.set_position({34.0522, -118.2437, std::nullopt});
  b.timestamp += 1;
  EXPECT_FALSE(obs.ingest(b, kNow + 2).ok());
  EXPECT_EQ(obs.size(), 0u);
  EXPECT_EQ(changes, (std::vector<BeaconChange>{BeaconChange::kInserted, BeaconChange::kUpdated,
                                                BeaconChange::kRemoved}));
}

TEST(BeaconObserverTest, TrackAllAndCapacity) {
  BeaconObserver obs({"me", "", true, 30, 2});
  for (int i = 0; i < 2; ++i) {
    auto b = sample();
    b.node_id = "n" + std::to_string(i);
    ASSERT_TRUE(obs.ingest(b, kNow).ok());
  }
  auto extra = sample();
  extra.node_id = "n9";
  EXPECT_EQ(obs.ingest(extra, kNow).error().code, "CACHE_FULL");
  // Once the others expire there is room again.
  extra.timestamp = kNow + 40;
  EXPECT_TRUE(obs.ingest(extra, kNow + 40).ok());
  EXPECT_EQ(obs.size(), 1u);
}

TEST(BeaconBroadcasterTest, FirstTickImmediateThenPeriodic) {
  peat::testing::ManualLoop loop;
  std::vector<std::uint64_t> stamps;
  BeaconBroadcaster bc(loop, sample(), std::chrono::seconds(5),
                       [&](const GeographicBeacon& b) { stamps.push_back(b.timestamp); });
  bc.start();
  bc.start();
  loop.advance(std::chrono::seconds(0));
  EXPECT_EQ(stamps.size(), 1u);
  loop.advance(std::chrono::seconds(12));
  EXPECT_EQ(stamps.size(), 3u);
  EXPECT_EQ(stamps[2] - stamps[0], 10u);
  bc.update_position({34.0522, -118.2437, std::nullopt});
  EXPECT_EQ(bc.beacon().geohash.substr(0, 3), "9q5");
  bc.stop();
  loop.advance(std::chrono::seconds(30));
  EXPECT_EQ(stamps.size(), 3u);
  EXPECT_EQ(bc.broadcasts(), 3u);
}

TEST(BeaconJanitorTest, ExpiresOnInterval) {
  peat::testing::ManualLoop loop;
  BeaconObserver obs({"me", "", true, 30, 100});
  auto b = sample();
  b.timestamp = loop.unix_millis() / 1000;
  ASSERT_TRUE(obs.ingest(b, b.timestamp).ok());
  BeaconJanitor janitor(loop, obs, std::chrono::seconds(5));
  janitor.start();
  loop.advance(std::chrono::seconds(30));
  EXPECT_EQ(obs.size(), 1u);
  loop.advance(std::chrono::seconds(5));
  EXPECT_EQ(obs.size(), 0u);
  EXPECT_EQ(janitor.removed_total(), 1u);
}
