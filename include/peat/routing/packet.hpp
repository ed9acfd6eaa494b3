// DataPacket: the unit of routed data (telemetry up, commands down, coordination sideways).
// JSON wire shape matches the Rust crate's serde output.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "peat/common/bytes.hpp"
#include "peat/common/random.hpp"
#include "peat/common/result.hpp"

namespace peat::routing {

enum class DataType : std::uint8_t {
  kTelemetry,
  kStatus,
  kCommand,
  kConfiguration,
  kCoordination,
  kAggregatedTelemetry
};
enum class DataDirection : std::uint8_t { kUpward, kDownward, kLateral };

const char* to_string(DataType type);
const char* to_string(DataDirection direction);
Result<DataType> parse_data_type(std::string_view text);
Result<DataDirection> parse_direction(std::string_view text);
// Telemetry/Status/AggregatedTelemetry up, Command/Configuration down, Coordination lateral.
DataDirection typical_direction(DataType type);
// Only Telemetry and Status are aggregated.
bool requires_aggregation(DataType type);

// Random (version 4) UUID in canonical lowercase form.
std::string make_packet_id(Rng& rng);

inline constexpr std::uint16_t kDefaultMaxHops = 10;
inline constexpr std::uint16_t kCoordinationMaxHops = 3;

struct DataPacket {
  std::string packet_id;
  std::string source_node_id;
  std::optional<std::string> destination_node_id;  // none = broadcast / topology-determined
  DataType data_type = DataType::kTelemetry;
  DataDirection direction = DataDirection::kUpward;
  std::uint16_t hop_count = 0;
  std::uint16_t max_hops = kDefaultMaxHops;
  Bytes payload;

  static DataPacket telemetry(Rng& rng, std::string source, Bytes payload);
  static DataPacket status(Rng& rng, std::string source, Bytes payload);
  static DataPacket command(Rng& rng, std::string source, std::string destination, Bytes payload);
  static DataPacket coordination(Rng& rng, std::string source, std::string destination,
                                 Bytes payload);
  static DataPacket aggregated_telemetry(Rng& rng, std::string source, Bytes payload);

  // hop_count += 1 (saturating); true while hop_count < max_hops.
  bool increment_hop();
  bool at_max_hops() const { return hop_count >= max_hops; }
  bool operator==(const DataPacket&) const = default;
};

std::string to_json(const DataPacket& packet);
// Errors: "INVALID_PACKET" (not JSON, missing or mistyped field, unknown enum, bytes > 255).
Result<DataPacket> packet_from_json(std::string_view text);
inline Result<DataPacket> decode_packet(ByteView bytes) {
  return packet_from_json(as_chars(bytes));
}

}  // namespace peat::routing
