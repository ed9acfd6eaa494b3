#include "peat/store/json_convert.hpp"

#include <cmath>
#include <limits>
#include <optional>
#include <set>

namespace peat::store {

namespace {

using doc::Document;
using doc::ObjId;
using doc::ObjType;
using doc::Value;
using nlohmann::json;

// nullopt when the value has parts JSON cannot represent (bytes, counters, text, ...).
std::optional<json> exact_json(const Document& d, const Value& v);

std::optional<json> scalar_json(const doc::ScalarValue& s) {
  return std::visit(
      [](const auto& x) -> std::optional<json> {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, doc::Null>) {
          return json(nullptr);
        } else if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, std::int64_t> ||
                             std::is_same_v<T, std::uint64_t> || std::is_same_v<T, std::string>) {
          return json(x);
        } else if constexpr (std::is_same_v<T, double>) {
          return std::isfinite(x) ? json(x) : json(nullptr);
        } else if constexpr (std::is_same_v<T, doc::Timestamp>) {
          return json(x.millis);
        } else {
          return std::nullopt;  // bytes, counter, unknown
        }
      },
      s);
}

std::optional<json> exact_json(const Document& d, const Value& v) {
  if (const auto* s = std::get_if<doc::ScalarValue>(&v)) return scalar_json(*s);
  const auto& ref = std::get<doc::ObjectRef>(v);
  if (ref.type == ObjType::kMap) {
    json obj = json::object();
    for (const std::string& k : d.keys(ref.id)) {
      auto child = d.get(ref.id, k);
      if (!child) continue;
      auto cj = exact_json(d, *child);
      if (!cj) return std::nullopt;
      obj[k] = std::move(*cj);
    }
    return obj;
  }
  if (ref.type == ObjType::kList) {
    json arr = json::array();
    for (const Value& e : d.list_values(ref.id)) {
      auto ej = exact_json(d, e);
      if (!ej) return std::nullopt;
      arr.push_back(std::move(*ej));
    }
    return arr;
  }
  return std::nullopt;  // text, table
}

json lossy_json(const Document& d, const Value& v) {
  if (const auto* s = std::get_if<doc::ScalarValue>(&v)) {
    return scalar_json(*s).value_or(json(nullptr));
  }
  const auto& ref = std::get<doc::ObjectRef>(v);
  if (ref.type == ObjType::kMap) {
    json obj = json::object();
    for (const std::string& k : d.keys(ref.id)) {
      if (auto child = d.get(ref.id, k)) obj[k] = lossy_json(d, *child);
    }
    return obj;
  }
  if (ref.type == ObjType::kList) {
    json arr = json::array();
    for (const Value& e : d.list_values(ref.id)) arr.push_back(lossy_json(d, e));
    return arr;
  }
  return json(nullptr);
}

doc::ScalarValue scalar_of(const json& j) {
  switch (j.type()) {
    case json::value_t::boolean:
      return j.get<bool>();
    case json::value_t::number_integer:
      return j.get<std::int64_t>();
    case json::value_t::number_unsigned: {
      auto u = j.get<std::uint64_t>();
      if (u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return static_cast<std::int64_t>(u);
      }
      return static_cast<double>(u);
    }
    case json::value_t::number_float:
      return j.get<double>();
    case json::value_t::string:
      return j.get<std::string>();
    default:
      return doc::Null{};
  }
}

Status write_value(Document& d, const ObjId& obj, const doc::Prop& prop, const json& j,
                   bool insert);

// The JSON as it reads back after writing (u64 beyond i64 becomes a float).
json as_written(const json& j) {
  if (j.is_object() || j.is_array()) {
    json out = j.is_object() ? json::object() : json::array();
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (j.is_object()) {
        out[it.key()] = as_written(it.value());
      } else {
        out.push_back(as_written(it.value()));
      }
    }
    return out;
  }
  return scalar_json(scalar_of(j)).value_or(json(nullptr));
}

Status fill_object(Document& d, const ObjId& obj, const json& j) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) PEAT_TRY_STATUS(write_value(d, obj, k, v, false));
  } else {
    std::size_t i = 0;
    for (const auto& v : j) PEAT_TRY_STATUS(write_value(d, obj, i++, v, true));
  }
  return {};
}

Status write_value(Document& d, const ObjId& obj, const doc::Prop& prop, const json& j,
                   bool insert) {
  if (j.is_object() || j.is_array()) {
    ObjType type = j.is_object() ? ObjType::kMap : ObjType::kList;
    auto child = insert ? d.insert_object(obj, std::get<std::size_t>(prop), type)
                        : d.put_object(obj, prop, type);
    if (!child.ok()) return child.error();
    return fill_object(d, *child, j);
  }
  if (insert) return d.insert(obj, std::get<std::size_t>(prop), scalar_of(j));
  return d.put(obj, prop, scalar_of(j));
}

}  // namespace

json document_to_json(const Document& d) {
  return lossy_json(d, Value{doc::ObjectRef{doc::kRoot, ObjType::kMap}});
}

Status write_json(Document& d, const json& j) {
  if (!j.is_object()) return make_error("INVALID_JSON", "document JSON must be an object");
  for (const auto& [k, v] : j.items()) {
    if (auto existing = d.get(doc::kRoot, k)) {
      auto current = exact_json(d, *existing);
      if (current && current->dump() == as_written(v).dump()) continue;  // unchanged: no ops
    }
    PEAT_TRY_STATUS(write_value(d, doc::kRoot, k, v, false));
  }
  for (const std::string& k : d.keys(doc::kRoot)) {
    if (!j.contains(k)) PEAT_TRY_STATUS(d.remove(doc::kRoot, k));
  }
  return {};
}

bool marked_deleted(const Document& d) {
  auto v = d.get(doc::kRoot, std::string("_deleted"));
  if (!v) return false;
  const auto* s = std::get_if<doc::ScalarValue>(&*v);
  const bool* b = s ? std::get_if<bool>(s) : nullptr;
  return b && *b;
}

}  // namespace peat::store
