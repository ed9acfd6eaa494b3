// Peat-Lite CRDT payloads <-> the JSON documents the full node stores (Rust LiteDocumentBridge
// field names). Telemetry in: DATA -> JSON; commands out: JSON -> DATA.
#pragma once

#include <cstdint>
#include <string>

#include "peat/common/clock.hpp"
#include "peat/common/result.hpp"
#include "peat/lite/protocol.hpp"

namespace peat::lite {

// gcounter  -> {"type":"gcounter","source_node":"%08X","total":n,"node_counts":{"%08X":n},..}
// pncounter -> {"type":"pncounter","source_node",..,"net_value":n,
//               "node_entries":{"%08X":{"increments":i,"decrements":d}},..}
// orset     -> {"type":"orset","source_node",..,"count":n,
//               "elements":[{"tag_node":"%08X","tag_seq":s,"value":"<hex>"}],..}
// lww       -> {"type":"lww_register","source_node",..,"timestamp":t,"node_id":"%08X",
//               "value_i32"|"value_i64" (4 / 8-byte values, little-endian),"value_hex":"..",
//               "value_text" (when the value is printable UTF-8),..}
// Every document also has "updated_at" (ms) and, when the DATA carried one, "ttl_secs".
// Errors: the decoder's LITE_* codes.
Result<std::string> data_to_json(const DataPayload& data, std::uint32_t source_node,
                                 UnixMillis now);

// A DOCUMENT envelope as a JSON document: a JSON-object body is used as is; any other body is
// kept as {"body_hex": ".."}. Adds "source_node" and "timestamp_ms".
std::string document_to_json(const DocumentEnvelope& doc, std::uint32_t source_node);

// A stored JSON document as a DATA payload for devices, chosen by the fields present (as the
// Rust bridge does): "node_entries" -> PnCounter, "elements" -> OrSet, "node_counts" -> GCounter,
// anything else -> LWW register whose value is the compact JSON (unprefixed layout, which is
// what ESP32 firmware parses). INVALID_JSON / LITE_FIELD_TOO_LARGE on bad input.
Result<DataPayload> json_to_data(const std::string& json, std::uint32_t local_node_id,
                                 UnixMillis now);

}  // namespace peat::lite
