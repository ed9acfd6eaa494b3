#include "peat/lite/json_mapping.hpp"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "peat/common/utf8.hpp"

namespace peat::lite {
namespace {

using nlohmann::json;

std::string hex8(std::uint32_t v) {
  char buf[12];
  std::snprintf(buf, sizeof buf, "%08X", v);
  return buf;
}

bool printable_utf8(const Bytes& v) {
  if (v.empty()) return false;
  for (auto c : v) {
    if (c < 0x20 && c != '\n' && c != '\t' && c != '\r') return false;
  }
  return is_valid_utf8(ByteView(v));
}

std::uint64_t le_value(const Bytes& v) {
  std::uint64_t acc = 0;
  for (std::size_t i = 0; i < v.size() && i < 8; ++i) acc |= std::uint64_t{v[i]} << (8 * i);
  return acc;
}

std::optional<std::uint32_t> parse_hex_key(const std::string& key) {
  if (key.empty() || key.size() > 8) return std::nullopt;
  std::uint32_t v = 0;
  for (char c : key) {
    int d = (c >= '0' && c <= '9')   ? c - '0'
            : (c >= 'a' && c <= 'f') ? c - 'a' + 10
            : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                     : -1;
    if (d < 0) return std::nullopt;
    v = (v << 4) | static_cast<std::uint32_t>(d);
  }
  return v;
}

Error bad_json(const std::string& why) {
  return make_error("INVALID_JSON", why);
}

}  // namespace

Result<std::string> data_to_json(const DataPayload& data, std::uint32_t source_node,
                                 UnixMillis now) {
  json doc;
  doc["source_node"] = hex8(source_node);
  switch (data.crdt_type) {
    case CrdtType::kGCounter: {
      auto c = decode_gcounter(data.crdt);
      if (!c) return c.error();
      doc["type"] = "gcounter";
      doc["total"] = c->total();
      json counts = json::object();
      for (const auto& [node, count] : c->counts) counts[hex8(node)] = count;
      doc["node_counts"] = std::move(counts);
      break;
    }
    case CrdtType::kPnCounter: {
      auto c = decode_pncounter(data.crdt);
      if (!c) return c.error();
      doc["type"] = "pncounter";
      doc["net_value"] = c->net();
      json entries = json::object();
      for (const auto& e : c->entries) {
        entries[hex8(e.node_id)] = {{"increments", e.increments}, {"decrements", e.decrements}};
      }
      doc["node_entries"] = std::move(entries);
      break;
    }
    case CrdtType::kOrSet: {
      auto s = decode_orset(data.crdt);
      if (!s) return s.error();
      doc["type"] = "orset";
      doc["count"] = s->elements.size();
      json elements = json::array();
      for (const auto& e : s->elements) {
        elements.push_back({{"tag_node", hex8(e.tag_node_id)},
                            {"tag_seq", e.tag_seq},
                            {"value", to_hex(e.value)}});
      }
      doc["elements"] = std::move(elements);
      break;
    }
    case CrdtType::kLwwRegister: {
      auto r = decode_lww(data.crdt);
      if (!r) return r.error();
      doc["type"] = "lww_register";
      doc["timestamp"] = r->timestamp;
      doc["node_id"] = hex8(r->node_id);
      if (r->value.size() == 4) {
        doc["value_i32"] =
            static_cast<std::int32_t>(static_cast<std::uint32_t>(le_value(r->value)));
      } else if (r->value.size() == 8) {
        doc["value_i64"] = static_cast<std::int64_t>(le_value(r->value));
      }
      doc["value_hex"] = to_hex(r->value);
      if (printable_utf8(r->value))
        doc["value_text"] = std::string(r->value.begin(), r->value.end());
      break;
    }
  }
  if (data.ttl_secs) doc["ttl_secs"] = *data.ttl_secs;
  doc["updated_at"] = now;
  return doc.dump();
}

std::string document_to_json(const DocumentEnvelope& d, std::uint32_t source_node) {
  json doc = json::parse(d.body.begin(), d.body.end(), nullptr, false);
  if (!doc.is_object() || d.encrypted()) {
    doc = json::object();
    doc["body_hex"] = to_hex(d.body);
  }
  doc["source_node"] = hex8(source_node);
  doc["timestamp_ms"] = d.timestamp_ms;
  return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<DataPayload> json_to_data(const std::string& text, std::uint32_t local_node_id,
                                 UnixMillis now) {
  json doc = json::parse(text, nullptr, false);
  if (!doc.is_object()) return bad_json("document is not a JSON object");
  DataPayload out;
  try {
    if (doc.contains("node_entries")) {
      PnCounter c{local_node_id, {}};
      for (const auto& [key, v] : doc.at("node_entries").items()) {
        auto node = parse_hex_key(key);
        if (!node) return bad_json("node_entries key is not hex: " + key);
        c.entries.push_back({*node, v.value("increments", std::uint64_t{0}),
                             v.value("decrements", std::uint64_t{0})});
      }
      auto bytes = encode_pncounter(c);
      if (!bytes) return bytes.error();
      out = {CrdtType::kPnCounter, std::move(*bytes), std::nullopt};
    } else if (doc.contains("elements")) {
      OrSet s{local_node_id, {}};
      for (const auto& e : doc.at("elements")) {
        auto node = parse_hex_key(e.value("tag_node", std::string()));
        auto value = from_hex(e.value("value", std::string()));
        if (!node || !value) return bad_json("orset element needs hex tag_node and value");
        s.elements.push_back({*node, e.value("tag_seq", std::uint32_t{0}), std::move(*value)});
      }
      auto bytes = encode_orset(s);
      if (!bytes) return bytes.error();
      out = {CrdtType::kOrSet, std::move(*bytes), std::nullopt};
    } else if (doc.contains("node_counts")) {
      // The full node sends local_node_id 0 for counters (peat-mesh behaviour).
      GCounter c{0, {}};
      for (const auto& [key, v] : doc.at("node_counts").items()) {
        auto node = parse_hex_key(key);
        if (!node) return bad_json("node_counts key is not hex: " + key);
        c.counts.emplace_back(*node, v.get<std::uint64_t>());
      }
      auto bytes = encode_gcounter(c);
      if (!bytes) return bytes.error();
      out = {CrdtType::kGCounter, std::move(*bytes), std::nullopt};
    } else {
      std::string compact = doc.dump();
      out = {CrdtType::kLwwRegister,
             encode_lww_unprefixed({now, local_node_id, Bytes(compact.begin(), compact.end())}),
             std::nullopt};
    }
  } catch (const json::exception& e) {
    return bad_json(e.what());
  }
  return out;
}

}  // namespace peat::lite
