#include "peat/routing/aggregator.hpp"

#include <nlohmann/json.hpp>

namespace peat::routing {

Result<Bytes> Aggregator::extract_summary_bytes(const DataPacket& p) const {
  if (p.data_type != DataType::kAggregatedTelemetry) {
    return make_error("INVALID_PACKET_TYPE", std::string("Expected AggregatedTelemetry packet "
                                                         "type, got ") +
                                                 to_string(p.data_type));
  }
  return p.payload;
}

Result<DataPacket> NoOpAggregator::aggregate_telemetry(const std::string&, const std::string&,
                                                       const std::vector<DataPacket>&) {
  return make_error("AGGREGATION_FAILED", "Aggregation operation failed: No aggregator configured");
}

Result<DataPacket> BundleAggregator::aggregate_telemetry(const std::string& group_id,
                                                         const std::string& leader_id,
                                                         const std::vector<DataPacket>& packets) {
  if (packets.empty()) return make_error("EMPTY_INPUT", "Cannot aggregate empty packet list");
  nlohmann::ordered_json j;
  j["group_id"] = group_id;
  j["leader_id"] = leader_id;
  j["count"] = packets.size();
  auto sources = nlohmann::ordered_json::array();
  auto ids = nlohmann::ordered_json::array();
  auto payloads = nlohmann::ordered_json::array();
  for (const auto& p : packets) {
    if (p.data_type != DataType::kTelemetry && p.data_type != DataType::kStatus &&
        p.data_type != DataType::kAggregatedTelemetry) {
      return make_error("INVALID_PACKET_TYPE", std::string("Expected Telemetry packet type, got ") +
                                                   to_string(p.data_type));
    }
    sources.push_back(p.source_node_id);
    ids.push_back(p.packet_id);
    payloads.push_back(p.payload);
  }
  j["sources"] = std::move(sources);
  j["packet_ids"] = std::move(ids);
  j["payloads"] = std::move(payloads);
  return DataPacket::aggregated_telemetry(*rng_, leader_id, to_bytes(j.dump()));
}

Result<BundleAggregator::Summary> BundleAggregator::decode_summary(const DataPacket& p) {
  if (p.data_type != DataType::kAggregatedTelemetry) {
    return make_error("INVALID_PACKET_TYPE", std::string("Expected AggregatedTelemetry packet "
                                                         "type, got ") +
                                                 to_string(p.data_type));
  }
  auto j = nlohmann::json::parse(as_chars(p.payload), nullptr, false);
  auto bad = [] {
    return make_error("DESERIALIZATION_ERROR", "Failed to deserialize payload: not a summary");
  };
  if (j.is_discarded() || !j.is_object()) return bad();
  Summary s;
  try {
    s.group_id = j.at("group_id").get<std::string>();
    s.leader_id = j.at("leader_id").get<std::string>();
    s.sources = j.at("sources").get<std::vector<std::string>>();
    s.packet_ids = j.at("packet_ids").get<std::vector<std::string>>();
    for (const auto& e : j.at("payloads")) s.payloads.push_back(e.get<Bytes>());
  } catch (const nlohmann::json::exception&) {
    return bad();
  }
  return s;
}

}  // namespace peat::routing
