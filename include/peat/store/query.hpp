// Queries over the documents of one collection, with the Rust peat-mesh operators:
// where_eq / where_gt / where_lt / where_gte / where_lte / where_contains, filter_by_ids,
// order_by, limit, offset. Field paths are dotted ("position.lat") and descend through maps
// only. Extractable values: null, bool, int, uint, float, string, timestamp; bytes, counters
// and objects never match. Equality is strict per kind (Int 5 != Uint 5 != Float 5.0);
// ordering compares int/uint/float numerically and is false across other kinds. Results: scan
// order (key order) → id filter → predicates (AND) → stable sort (missing fields after present
// ones ascending; descending reverses the whole order) → offset → limit.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "peat/doc/document.hpp"

namespace peat::store {

using QueryValue =
    std::variant<doc::Null, bool, std::int64_t, std::uint64_t, double, std::string, doc::Timestamp>;

enum class SortOrder : std::uint8_t { kAsc, kDesc };

class Query {
 public:
  explicit Query(std::string collection) : collection_(std::move(collection)) {}

  Query& where_eq(std::string field, QueryValue v) { return add(field, Op::kEq, std::move(v)); }
  Query& where_gt(std::string field, QueryValue v) { return add(field, Op::kGt, std::move(v)); }
  Query& where_lt(std::string field, QueryValue v) { return add(field, Op::kLt, std::move(v)); }
  Query& where_gte(std::string field, QueryValue v) { return add(field, Op::kGte, std::move(v)); }
  Query& where_lte(std::string field, QueryValue v) { return add(field, Op::kLte, std::move(v)); }
  // The field must be a list holding a scalar equal to v.
  Query& where_contains(std::string field, QueryValue v) {
    return add(field, Op::kContains, std::move(v));
  }
  Query& filter_by_ids(std::vector<std::string> ids);
  Query& order_by(std::string field, SortOrder order = SortOrder::kAsc);
  Query& limit(std::size_t n) {
    limit_ = n;
    return *this;
  }
  Query& offset(std::size_t n) {
    offset_ = n;
    return *this;
  }

  const std::string& collection() const { return collection_; }
  // Whether a document passes the id filter and every predicate.
  bool matches(std::string_view doc_id, const doc::Document& doc) const;
  // Sorts (stably), then applies offset and limit, to (doc id, document) pairs that matched.
  void finish(std::vector<std::pair<std::string, doc::Document>>& rows) const;

  // The extractable value at a dotted path, if any.
  static std::optional<QueryValue> extract(const doc::Document& doc, std::string_view path);

 private:
  enum class Op : std::uint8_t { kEq, kGt, kLt, kGte, kLte, kContains };
  struct Predicate {
    std::string field;
    Op op;
    QueryValue value;
  };
  Query& add(std::string& field, Op op, QueryValue v) {
    predicates_.push_back({std::move(field), op, std::move(v)});
    return *this;
  }

  std::string collection_;
  std::vector<Predicate> predicates_;
  std::optional<std::vector<std::string>> ids_;
  std::optional<std::pair<std::string, SortOrder>> order_;
  std::optional<std::size_t> limit_;
  std::size_t offset_ = 0;
};

}  // namespace peat::store
