#include "peat/routing/packet.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace peat::routing;

TEST(DataPacketTest, ConstructorsSetDirectionAndHops) {
  peat::SeededRng rng(1);
  auto t = DataPacket::telemetry(rng, "a", {1, 2});
  EXPECT_EQ(t.direction, DataDirection::kUpward);
  EXPECT_EQ(t.max_hops, 10);
  EXPECT_FALSE(t.destination_node_id);
  auto c = DataPacket::command(rng, "a", "b", {});
  EXPECT_EQ(c.direction, DataDirection::kDownward);
  EXPECT_EQ(*c.destination_node_id, "b");
  auto co = DataPacket::coordination(rng, "a", "b", {});
  EXPECT_EQ(co.direction, DataDirection::kLateral);
  EXPECT_EQ(co.max_hops, 3);
  EXPECT_EQ(DataPacket::status(rng, "a", {}).data_type, DataType::kStatus);
  EXPECT_EQ(DataPacket::aggregated_telemetry(rng, "a", {}).direction, DataDirection::kUpward);
  EXPECT_NE(t.packet_id, c.packet_id);
}

TEST(DataPacketTest, PacketIdIsUuidV4) {
  peat::SeededRng rng(7);
  auto id = make_packet_id(rng);
  ASSERT_EQ(id.size(), 36u);
  EXPECT_EQ(id[8], '-');
  EXPECT_EQ(id[14], '4');
  EXPECT_TRUE(id[19] == '8' || id[19] == '9' || id[19] == 'a' || id[19] == 'b');
}

TEST(DataPacketTest, HopAccounting) {
  peat::SeededRng rng(1);
  auto p = DataPacket::coordination(rng, "a", "b", {});
  EXPECT_TRUE(p.increment_hop());
  EXPECT_TRUE(p.increment_hop());
  EXPECT_FALSE(p.increment_hop());
  EXPECT_TRUE(p.at_max_hops());
  EXPECT_EQ(p.hop_count, 3);
}

TEST(DataPacketTest, TypicalDirectionAndAggregation) {
  EXPECT_EQ(typical_direction(DataType::kConfiguration), DataDirection::kDownward);
  EXPECT_EQ(typical_direction(DataType::kCoordination), DataDirection::kLateral);
  EXPECT_EQ(typical_direction(DataType::kStatus), DataDirection::kUpward);
  EXPECT_TRUE(requires_aggregation(DataType::kTelemetry));
  EXPECT_FALSE(requires_aggregation(DataType::kAggregatedTelemetry));
}

TEST(DataPacketTest, JsonWireShape) {
  DataPacket p{"id-1", "src", std::nullopt, DataType::kTelemetry, DataDirection::kUpward,
               0,      10,    {1, 255}};
  EXPECT_EQ(to_json(p),
            R"({"packet_id":"id-1","source_node_id":"src","destination_node_id":null,)"
            R"("data_type":"Telemetry","direction":"Upward","hop_count":0,"max_hops":10,)"
            R"("payload":[1,255]})");
  p.destination_node_id = "dst";
  p.data_type = DataType::kAggregatedTelemetry;
  auto back = packet_from_json(to_json(p)).value();
  EXPECT_EQ(back, p);
}

TEST(DataPacketTest, DecodeRejectsBadInput) {
  const char* cases[] = {
      "",
      "{",
      "null",
      R"({"packet_id":"x"})",
      R"({"packet_id":"x","source_node_id":"s","destination_node_id":null,"data_type":"Gossip","direction":"Upward","hop_count":0,"max_hops":10,"payload":[]})",
      R"({"packet_id":"x","source_node_id":"s","destination_node_id":null,"data_type":"Status","direction":"Up","hop_count":0,"max_hops":10,"payload":[]})",
      R"({"packet_id":"x","source_node_id":"s","destination_node_id":null,"data_type":"Status","direction":"Upward","hop_count":70000,"max_hops":10,"payload":[]})",
      R"({"packet_id":"x","source_node_id":"s","destination_node_id":null,"data_type":"Status","direction":"Upward","hop_count":0,"max_hops":10,"payload":[256]})",
      R"({"packet_id":"x","source_node_id":"s","destination_node_id":null,"data_type":"Status","direction":"Upward","hop_count":0,"max_hops":10,"payload":"AAA="})",
      R"({"packet_id":"x","source_node_id":"s","destination_node_id":5,"data_type":"Status","direction":"Upward","hop_count":0,"max_hops":10,"payload":[]})",
      R"({"packet_id":"x","source_node_id":"s","data_type":"Status","direction":"Upward","hop_count":0,"max_hops":10})",
  };
  for (const char* c : cases) {
    auto r = packet_from_json(c);
    ASSERT_FALSE(r.ok()) << c;
    EXPECT_EQ(r.error().code, "INVALID_PACKET") << c;
  }
  // Missing destination is allowed (serde Option).
  EXPECT_TRUE(packet_from_json(R"({"packet_id":"x","source_node_id":"s","data_type":"Status",)"
                               R"("direction":"Upward","hop_count":0,"max_hops":10,"payload":[]})")
                  .ok());
}
