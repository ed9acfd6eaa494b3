// Aggregation of upward telemetry at group leaders.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "peat/common/random.hpp"
#include "peat/routing/packet.hpp"

namespace peat::routing {

class Aggregator {
 public:
  virtual ~Aggregator() = default;
  // Errors: "EMPTY_INPUT" ("Cannot aggregate empty packet list"), "AGGREGATION_FAILED",
  // "INVALID_PACKET_TYPE", "DESERIALIZATION_ERROR".
  virtual Result<DataPacket> aggregate_telemetry(const std::string& group_id,
                                                 const std::string& leader_id,
                                                 const std::vector<DataPacket>& packets) = 0;
  // The payload of an AggregatedTelemetry packet ("INVALID_PACKET_TYPE" otherwise).
  virtual Result<Bytes> extract_summary_bytes(const DataPacket& packet) const;
};

// Always fails with "No aggregator configured".
class NoOpAggregator final : public Aggregator {
 public:
  Result<DataPacket> aggregate_telemetry(const std::string&, const std::string&,
                                         const std::vector<DataPacket>&) override;
};

// Bundles packets into one AggregatedTelemetry packet whose payload is JSON:
// {"group_id","leader_id","count","sources":[...],"packet_ids":[...],"payloads":[[bytes]...]}.
// Only Telemetry/Status/AggregatedTelemetry packets are accepted.
class BundleAggregator final : public Aggregator {
 public:
  explicit BundleAggregator(std::shared_ptr<Rng> rng) : rng_(std::move(rng)) {}
  Result<DataPacket> aggregate_telemetry(const std::string& group_id, const std::string& leader_id,
                                         const std::vector<DataPacket>& packets) override;

  struct Summary {
    std::string group_id;
    std::string leader_id;
    std::vector<std::string> sources;
    std::vector<std::string> packet_ids;
    std::vector<Bytes> payloads;
  };
  // Errors: "INVALID_PACKET_TYPE", "DESERIALIZATION_ERROR".
  static Result<Summary> decode_summary(const DataPacket& packet);

 private:
  std::shared_ptr<Rng> rng_;
};

}  // namespace peat::routing
