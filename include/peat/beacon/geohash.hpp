// Geohash codec, bit-exact with the geohash crate vendored by the Rust peat-mesh.
// Alphabet "0123456789bcdefghjkmnpqrstuvwxyz", 5 bits per character, longitude bit first.
// Note the argument order: longitude first, like the Rust API.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include "peat/common/result.hpp"

namespace peat::beacon::geohash {

inline constexpr std::size_t kMinLength = 1;
inline constexpr std::size_t kMaxLength = 12;

struct Coord {
  double lon = 0;
  double lat = 0;
};

struct BoundingBox {
  Coord min;  // south-west corner
  Coord max;  // north-east corner
};

// Centre of a cell and half its width/height.
struct Decoded {
  Coord centre;
  double lon_error = 0;
  double lat_error = 0;
};

enum class Direction { kN, kNE, kE, kSE, kS, kSW, kW, kNW };

struct Neighbors {
  std::string n, ne, e, se, s, sw, w, nw;
  // In the order N, NE, E, SE, S, SW, W, NW.
  std::array<std::string, 8> all() const { return {n, ne, e, se, s, sw, w, nw}; }
};

// Errors: "INVALID_COORDINATE" (lon outside [-180,180] or lat outside [-90,90], or NaN),
// "INVALID_LENGTH" (not 1..12).
Result<std::string> encode(double lon, double lat, std::size_t length);
// Errors: "INVALID_HASH" (empty or longer than 12), "INVALID_HASH_CHARACTER".
Result<BoundingBox> decode_bbox(std::string_view hash);
Result<Decoded> decode(std::string_view hash);
Result<std::string> neighbor(std::string_view hash, Direction direction);
Result<Neighbors> neighbors(std::string_view hash);

// Approximate cell width in metres at the equator for a precision (1..12); 0 otherwise.
double cell_width_meters(std::size_t length);

}  // namespace peat::beacon::geohash
