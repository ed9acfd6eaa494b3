#include "peat/routing/packet.hpp"

#include <array>

#include <nlohmann/json.hpp>

#include "beacon/json_util.hpp"

namespace peat::routing {

namespace {
constexpr std::array<const char*, 6> kTypeNames = {
    "Telemetry", "Status", "Command", "Configuration", "Coordination", "AggregatedTelemetry"};
constexpr std::array<const char*, 3> kDirectionNames = {"Upward", "Downward", "Lateral"};
}  // namespace

const char* to_string(DataType type) {
  return kTypeNames[static_cast<std::size_t>(type)];
}
const char* to_string(DataDirection d) {
  return kDirectionNames[static_cast<std::size_t>(d)];
}

Result<DataType> parse_data_type(std::string_view text) {
  for (std::size_t i = 0; i < kTypeNames.size(); ++i) {
    if (text == kTypeNames[i]) return static_cast<DataType>(i);
  }
  return make_error("INVALID_PACKET", "unknown data_type: " + std::string(text));
}

Result<DataDirection> parse_direction(std::string_view text) {
  for (std::size_t i = 0; i < kDirectionNames.size(); ++i) {
    if (text == kDirectionNames[i]) return static_cast<DataDirection>(i);
  }
  return make_error("INVALID_PACKET", "unknown direction: " + std::string(text));
}

DataDirection typical_direction(DataType type) {
  switch (type) {
    case DataType::kCommand:
    case DataType::kConfiguration:
      return DataDirection::kDownward;
    case DataType::kCoordination:
      return DataDirection::kLateral;
    default:
      return DataDirection::kUpward;
  }
}

bool requires_aggregation(DataType type) {
  return type == DataType::kTelemetry || type == DataType::kStatus;
}

std::string make_packet_id(Rng& rng) {
  std::array<std::uint8_t, 16> b{};
  rng.fill(b);
  b[6] = static_cast<std::uint8_t>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<std::uint8_t>((b[8] & 0x3f) | 0x80);
  const std::string hex = to_hex(b);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

namespace {
DataPacket make(Rng& rng, std::string source, std::optional<std::string> dest, DataType type,
                DataDirection dir, std::uint16_t max_hops, Bytes payload) {
  return DataPacket{make_packet_id(rng), std::move(source), std::move(dest), type, dir, 0, max_hops,
                    std::move(payload)};
}
}  // namespace

DataPacket DataPacket::telemetry(Rng& rng, std::string source, Bytes payload) {
  return make(rng, std::move(source), std::nullopt, DataType::kTelemetry, DataDirection::kUpward,
              kDefaultMaxHops, std::move(payload));
}
DataPacket DataPacket::status(Rng& rng, std::string source, Bytes payload) {
  return make(rng, std::move(source), std::nullopt, DataType::kStatus, DataDirection::kUpward,
              kDefaultMaxHops, std::move(payload));
}
DataPacket DataPacket::command(Rng& rng, std::string source, std::string destination,
                               Bytes payload) {
  return make(rng, std::move(source), std::move(destination), DataType::kCommand,
              DataDirection::kDownward, kDefaultMaxHops, std::move(payload));
}
DataPacket DataPacket::coordination(Rng& rng, std::string source, std::string destination,
                                    Bytes payload) {
  return make(rng, std::move(source), std::move(destination), DataType::kCoordination,
              DataDirection::kLateral, kCoordinationMaxHops, std::move(payload));
}
DataPacket DataPacket::aggregated_telemetry(Rng& rng, std::string source, Bytes payload) {
  return make(rng, std::move(source), std::nullopt, DataType::kAggregatedTelemetry,
              DataDirection::kUpward, kDefaultMaxHops, std::move(payload));
}

bool DataPacket::increment_hop() {
  if (hop_count < UINT16_MAX) ++hop_count;
  return hop_count < max_hops;
}

std::string to_json(const DataPacket& p) {
  nlohmann::ordered_json j;
  j["packet_id"] = p.packet_id;
  j["source_node_id"] = p.source_node_id;
  j["destination_node_id"] =
      p.destination_node_id ? nlohmann::ordered_json(*p.destination_node_id) : nullptr;
  j["data_type"] = to_string(p.data_type);
  j["direction"] = to_string(p.direction);
  j["hop_count"] = p.hop_count;
  j["max_hops"] = p.max_hops;
  j["payload"] = p.payload;
  return j.dump();
}

Result<DataPacket> packet_from_json(std::string_view text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return make_error("INVALID_PACKET", "packet is not valid JSON");
  beacon::detail::JsonReader r(j, "packet", "INVALID_PACKET");
  DataPacket p;
  r.required_string("packet_id", p.packet_id);
  r.required_string("source_node_id", p.source_node_id);
  std::string dest;
  if (r.optional_string("destination_node_id", dest)) p.destination_node_id = dest;
  std::string type, dir;
  if (r.required_string("data_type", type)) {
    auto t = parse_data_type(type);
    if (!t) return t.error();
    p.data_type = t.value();
  }
  if (r.required_string("direction", dir)) {
    auto d = parse_direction(dir);
    if (!d) return d.error();
    p.direction = d.value();
  }
  r.required_uint("hop_count", p.hop_count);
  r.required_uint("max_hops", p.max_hops);
  if (const auto* payload = r.find("payload")) {
    if (!payload->is_array()) {
      r.fail("packet: field `payload` must be an array of bytes");
    } else {
      p.payload.reserve(payload->size());
      for (const auto& e : *payload) {
        if (!e.is_number_unsigned() || e.get<std::uint64_t>() > 255) {
          r.fail("packet: field `payload` must be an array of bytes");
          break;
        }
        p.payload.push_back(static_cast<std::uint8_t>(e.get<std::uint64_t>()));
      }
    }
  } else {
    r.fail("packet: missing field `payload`");
  }
  if (!r.ok()) return r.error();
  return p;
}

}  // namespace peat::routing
