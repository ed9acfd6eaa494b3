#include "peat/store/query.hpp"

#include <algorithm>
#include <compare>

namespace peat::store {

namespace {

std::optional<QueryValue> from_scalar(const doc::ScalarValue& s) {
  return std::visit(
      [](const auto& x) -> std::optional<QueryValue> {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, doc::Null> || std::is_same_v<T, bool> ||
                      std::is_same_v<T, std::int64_t> || std::is_same_v<T, std::uint64_t> ||
                      std::is_same_v<T, double> || std::is_same_v<T, std::string> ||
                      std::is_same_v<T, doc::Timestamp>) {
          return QueryValue{x};
        } else {
          return std::nullopt;
        }
      },
      s);
}

std::optional<double> as_number(const QueryValue& v) {
  if (const auto* i = std::get_if<std::int64_t>(&v)) return static_cast<double>(*i);
  if (const auto* u = std::get_if<std::uint64_t>(&v)) return static_cast<double>(*u);
  if (const auto* f = std::get_if<double>(&v)) return *f;
  return std::nullopt;
}

// Ordering of two values; nullopt when incomparable.
std::optional<std::partial_ordering> compare(const QueryValue& a, const QueryValue& b) {
  auto na = as_number(a);
  auto nb = as_number(b);
  if (na && nb) return *na <=> *nb;
  if (a.index() != b.index()) return std::nullopt;
  if (const auto* s = std::get_if<std::string>(&a))
    return s->compare(std::get<std::string>(b)) <=> 0;
  if (const auto* t = std::get_if<doc::Timestamp>(&a)) {
    return t->millis <=> std::get<doc::Timestamp>(b).millis;
  }
  if (const auto* x = std::get_if<bool>(&a)) return *x <=> std::get<bool>(b);
  if (std::holds_alternative<doc::Null>(a)) return std::partial_ordering::equivalent;
  return std::nullopt;
}

std::optional<doc::Value> walk(const doc::Document& d, std::string_view path) {
  doc::ObjId obj = doc::kRoot;
  std::optional<doc::Value> current;
  std::size_t start = 0;
  for (;;) {
    auto dot = path.find('.', start);
    std::string part(path.substr(start, dot == std::string_view::npos ? path.npos : dot - start));
    current = d.get(obj, part);
    if (!current || dot == std::string_view::npos) return current;
    const auto* ref = std::get_if<doc::ObjectRef>(&*current);
    if (ref == nullptr || ref->type != doc::ObjType::kMap) return std::nullopt;
    obj = ref->id;
    start = dot + 1;
  }
}

}  // namespace

std::optional<QueryValue> Query::extract(const doc::Document& d, std::string_view path) {
  auto v = walk(d, path);
  if (!v) return std::nullopt;
  const auto* s = std::get_if<doc::ScalarValue>(&*v);
  if (s == nullptr) return std::nullopt;
  return from_scalar(*s);
}

Query& Query::filter_by_ids(std::vector<std::string> ids) {
  std::sort(ids.begin(), ids.end());
  ids_ = std::move(ids);
  return *this;
}

Query& Query::order_by(std::string field, SortOrder order) {
  order_ = std::make_pair(std::move(field), order);
  return *this;
}

bool Query::matches(std::string_view doc_id, const doc::Document& d) const {
  if (ids_ && !std::binary_search(ids_->begin(), ids_->end(), doc_id)) return false;
  for (const Predicate& p : predicates_) {
    if (p.op == Op::kContains) {
      auto v = walk(d, p.field);
      const auto* ref = v ? std::get_if<doc::ObjectRef>(&*v) : nullptr;
      if (ref == nullptr || ref->type != doc::ObjType::kList) return false;
      bool found = false;
      for (const doc::Value& e : d.list_values(ref->id)) {
        const auto* s = std::get_if<doc::ScalarValue>(&e);
        auto q = s != nullptr ? from_scalar(*s) : std::nullopt;
        if (q && *q == p.value) {
          found = true;
          break;
        }
      }
      if (!found) return false;
      continue;
    }
    auto v = extract(d, p.field);
    if (!v) return false;
    if (p.op == Op::kEq) {
      if (!(*v == p.value)) return false;
      continue;
    }
    auto c = compare(*v, p.value);
    if (!c) return false;
    bool ok = (p.op == Op::kGt && *c > 0) || (p.op == Op::kLt && *c < 0) ||
              (p.op == Op::kGte && *c >= 0) || (p.op == Op::kLte && *c <= 0);
    if (!ok) return false;
  }
  return true;
}

void Query::finish(std::vector<std::pair<std::string, doc::Document>>& rows) const {
  if (order_) {
    const std::string& field = order_->first;
    bool desc = order_->second == SortOrder::kDesc;
    std::vector<std::optional<QueryValue>> keys;
    keys.reserve(rows.size());
    for (const auto& r : rows) keys.push_back(extract(r.second, field));
    std::vector<std::size_t> idx(rows.size());
    for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = i;
    // Ascending: present values in order, then missing ones. Descending reverses all of it.
    auto ascending_less = [&](std::size_t a, std::size_t b) {
      const auto& ka = keys[a];
      const auto& kb = keys[b];
      if (!ka || !kb) return ka.has_value() && !kb.has_value();
      auto c = compare(*ka, *kb);
      return c && *c < 0;
    };
    std::stable_sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) {
      return desc ? ascending_less(b, a) : ascending_less(a, b);
    });
    std::vector<std::pair<std::string, doc::Document>> sorted;
    sorted.reserve(rows.size());
    for (std::size_t i : idx) sorted.push_back(std::move(rows[i]));
    rows = std::move(sorted);
  }
  std::size_t skip = std::min(offset_, rows.size());
  rows.erase(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(skip));
  if (limit_ && rows.size() > *limit_) {
    rows.erase(rows.begin() + static_cast<std::ptrdiff_t>(*limit_), rows.end());
  }
}

}  // namespace peat::store
