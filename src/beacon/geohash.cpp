#include "peat/beacon/geohash.hpp"

#include <cmath>
#include <cstdint>
#include <sstream>

namespace peat::beacon::geohash {
namespace {

constexpr std::string_view kAlphabet = "0123456789bcdefghjkmnpqrstuvwxyz";

int char_value(char c) {
  for (std::size_t i = 0; i < kAlphabet.size(); ++i) {
    if (kAlphabet[i] == c) return static_cast<int>(i);
  }
  return -1;
}

std::string fmt_double(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

}  // namespace

Result<std::string> encode(double lon, double lat, std::size_t length) {
  if (!(lon >= -180.0 && lon <= 180.0 && lat >= -90.0 && lat <= 90.0)) {
    return make_error("INVALID_COORDINATE", "invalid coordinate range: lon=" + fmt_double(lon) +
                                                ", lat=" + fmt_double(lat));
  }
  if (length < kMinLength || length > kMaxLength) {
    return make_error("INVALID_LENGTH", "invalid length: " + std::to_string(length) +
                                            ". Must be between 1 and 12 inclusive");
  }
  // Bisection: every midpoint is a dyadic fraction of the range, so each comparison is exact.
  double lon_lo = -180.0, lon_hi = 180.0, lat_lo = -90.0, lat_hi = 90.0;
  std::string out;
  out.reserve(length);
  bool lon_turn = true;
  for (std::size_t c = 0; c < length; ++c) {
    int value = 0;
    for (int bit = 0; bit < 5; ++bit) {
      value <<= 1;
      if (lon_turn) {
        const double mid = (lon_lo + lon_hi) / 2;
        if (lon >= mid) {
          value |= 1;
          lon_lo = mid;
        } else {
          lon_hi = mid;
        }
      } else {
        const double mid = (lat_lo + lat_hi) / 2;
        if (lat >= mid) {
          value |= 1;
          lat_lo = mid;
        } else {
          lat_hi = mid;
        }
      }
      lon_turn = !lon_turn;
    }
    out.push_back(kAlphabet[static_cast<std::size_t>(value)]);
  }
  return out;
}

Result<BoundingBox> decode_bbox(std::string_view hash) {
  if (hash.empty() || hash.size() > kMaxLength) {
    return make_error("INVALID_HASH", "invalid hash: " + std::string(hash));
  }
  double lon_lo = -180.0, lon_hi = 180.0, lat_lo = -90.0, lat_hi = 90.0;
  bool lon_turn = true;
  for (char c : hash) {
    const int value = char_value(c);
    if (value < 0) {
      return make_error("INVALID_HASH_CHARACTER", std::string("invalid hash character: ") + c);
    }
    for (int bit = 4; bit >= 0; --bit) {
      const bool set = ((value >> bit) & 1) != 0;
      if (lon_turn) {
        const double mid = (lon_lo + lon_hi) / 2;
        (set ? lon_lo : lon_hi) = mid;
      } else {
        const double mid = (lat_lo + lat_hi) / 2;
        (set ? lat_lo : lat_hi) = mid;
      }
      lon_turn = !lon_turn;
    }
  }
  return BoundingBox{{lon_lo, lat_lo}, {lon_hi, lat_hi}};
}

Result<Decoded> decode(std::string_view hash) {
  auto box = decode_bbox(hash);
  if (!box) return box.error();
  const auto& b = box.value();
  return Decoded{{(b.min.lon + b.max.lon) / 2, (b.min.lat + b.max.lat) / 2},
                 (b.max.lon - b.min.lon) / 2,
                 (b.max.lat - b.min.lat) / 2};
}

Result<std::string> neighbor(std::string_view hash, Direction direction) {
  auto d = decode(hash);
  if (!d) return d.error();
  double dlat = 0, dlon = 0;
  switch (direction) {
    case Direction::kN:
      dlat = 1;
      break;
    case Direction::kNE:
      dlat = 1;
      dlon = 1;
      break;
    case Direction::kE:
      dlon = 1;
      break;
    case Direction::kSE:
      dlat = -1;
      dlon = 1;
      break;
    case Direction::kS:
      dlat = -1;
      break;
    case Direction::kSW:
      dlat = -1;
      dlon = -1;
      break;
    case Direction::kW:
      dlon = -1;
      break;
    case Direction::kNW:
      dlat = 1;
      dlon = -1;
      break;
  }
  const auto& v = d.value();
  const double lon = v.centre.lon + 2 * std::abs(v.lon_error) * dlon;
  const double lat = v.centre.lat + 2 * std::abs(v.lat_error) * dlat;
  // Wrap like the reference: remainder with the sign of the dividend (Rust `%`).
  return encode(std::fmod(lon + 180.0, 360.0) - 180.0, std::fmod(lat + 90.0, 180.0) - 90.0,
                hash.size());
}

Result<Neighbors> neighbors(std::string_view hash) {
  Neighbors out;
  const std::pair<Direction, std::string*> slots[] = {
      {Direction::kN, &out.n},   {Direction::kNE, &out.ne}, {Direction::kE, &out.e},
      {Direction::kSE, &out.se}, {Direction::kS, &out.s},   {Direction::kSW, &out.sw},
      {Direction::kW, &out.w},   {Direction::kNW, &out.nw}};
  for (const auto& [dir, slot] : slots) {
    auto r = neighbor(hash, dir);
    if (!r) return r.error();
    *slot = std::move(r.value());
  }
  return out;
}

double cell_width_meters(std::size_t length) {
  if (length < kMinLength || length > kMaxLength) return 0;
  // 360 degrees of longitude split over ceil(5n/2) bits; one degree ~ 111 320 m at the equator.
  const std::size_t lon_bits = (5 * length + 1) / 2;
  return 360.0 / std::ldexp(1.0, static_cast<int>(lon_bits)) * 111320.0;
}

}  // namespace peat::beacon::geohash
