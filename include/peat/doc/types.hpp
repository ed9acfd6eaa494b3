// Value types of the document engine: actors, op ids, object ids, scalar values, change hashes.
// Pure data; no I/O. Mirrors Automerge's data model (see docs/doc-engine.md).
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "peat/common/bytes.hpp"

namespace peat::doc {

// Arbitrary bytes (16 random bytes by convention); ordered lexicographically by bytes.
using ActorId = Bytes;

// SHA-256 over a change chunk; heads are always kept sorted by these bytes.
using ChangeHash = std::array<std::uint8_t, 32>;

// (counter, actor). counter 0 is the root object / the list head.
struct OpId {
  std::uint64_t counter = 0;
  ActorId actor;

  // Lamport order: counter first, then actor bytes.
  std::strong_ordering operator<=>(const OpId&) const = default;
  bool operator==(const OpId&) const = default;
  std::string to_string() const;  // "counter@actorhex", "_root" for counter 0
};

// An object is named by the id of the op that created it; the root map is OpId{}.
using ObjId = OpId;
inline const ObjId kRoot{};

enum class ObjType : std::uint8_t { kMap, kList, kText, kTable };

struct Null {
  bool operator==(const Null&) const = default;
};
struct Counter {
  std::int64_t value = 0;
  bool operator==(const Counter&) const = default;
};
struct Timestamp {
  std::int64_t millis = 0;
  bool operator==(const Timestamp&) const = default;
};
// Value types 10..15 that this version does not know: kept verbatim so they survive a round trip.
struct UnknownValue {
  std::uint8_t type_code = 0;
  Bytes bytes;
  bool operator==(const UnknownValue&) const = default;
};

using ScalarValue = std::variant<Null, bool, std::int64_t, std::uint64_t, double, std::string,
                                 Bytes, Counter, Timestamp, UnknownValue>;

// What sits at a key or list index: a nested object (its id and type) or a scalar.
struct ObjectRef {
  ObjId id;
  ObjType type;
  bool operator==(const ObjectRef&) const = default;
};
using Value = std::variant<ObjectRef, ScalarValue>;

// A map key or a list/text index.
using Prop = std::variant<std::string, std::size_t>;

}  // namespace peat::doc
