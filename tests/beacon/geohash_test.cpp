#include "peat/beacon/geohash.hpp"

#include <cmath>

#include <gtest/gtest.h>

namespace gh = peat::beacon::geohash;

TEST(Geohash, EncodeReferenceVectors) {
  EXPECT_EQ(gh::encode(-120.6623, 35.3003, 5).value(), "9q60y");
  EXPECT_EQ(gh::encode(-120.6623, 35.3003, 10).value(), "9q60y60rhs");
  EXPECT_EQ(gh::encode(-122.4194, 37.7749, 7).value().substr(0, 5), "9q8yy");
  EXPECT_EQ(gh::encode(0, 0, 1).value(), "s");
  EXPECT_EQ(gh::encode(-180, -90, 12).value(), "000000000000");
  EXPECT_EQ(gh::encode(180, 90, 12).value(), "zzzzzzzzzzzz");
}

TEST(Geohash, EncodeRejectsBadInput) {
  EXPECT_EQ(gh::encode(180.1, 0, 5).error().code, "INVALID_COORDINATE");
  EXPECT_EQ(gh::encode(0, -90.5, 5).error().code, "INVALID_COORDINATE");
  EXPECT_EQ(gh::encode(std::nan(""), 0, 5).error().code, "INVALID_COORDINATE");
  EXPECT_EQ(gh::encode(0, 0, 0).error().code, "INVALID_LENGTH");
  EXPECT_EQ(gh::encode(0, 0, 13).error().code, "INVALID_LENGTH");
  EXPECT_EQ(gh::encode(0, 0, 13).error().message,
            "invalid length: 13. Must be between 1 and 12 inclusive");
}

TEST(Geohash, DecodeCentreAndErrors) {
  auto d = gh::decode("9q60y").value();
  EXPECT_DOUBLE_EQ(d.centre.lon, -120.65185546875);
  EXPECT_DOUBLE_EQ(d.centre.lat, 35.31005859375);
  EXPECT_DOUBLE_EQ(d.lon_error, 0.02197265625);
  EXPECT_DOUBLE_EQ(d.lat_error, 0.02197265625);
  auto box = gh::decode_bbox("9q60y").value();
  EXPECT_LE(box.min.lon, -120.6623);
  EXPECT_GE(box.max.lon, -120.6623);
  EXPECT_LE(box.min.lat, 35.3003);
  EXPECT_GE(box.max.lat, 35.3003);
}

TEST(Geohash, DecodeRejectsBadHash) {
  EXPECT_EQ(gh::decode("9q6a").error().code, "INVALID_HASH_CHARACTER");
  EXPECT_EQ(gh::decode("9q6a").error().message, "invalid hash character: a");
  EXPECT_EQ(gh::decode("").error().code, "INVALID_HASH");
  EXPECT_EQ(gh::decode("0123456789bcd").error().code, "INVALID_HASH");
}

TEST(Geohash, NeighboursReferenceVectors) {
  auto n = gh::neighbors("9q60y60rhs").value();
  EXPECT_EQ(n.n, "9q60y60rht");
  EXPECT_EQ(n.ne, "9q60y60rhv");
  EXPECT_EQ(n.e, "9q60y60rhu");
  EXPECT_EQ(n.se, "9q60y60rhg");
  EXPECT_EQ(n.s, "9q60y60rhe");
  EXPECT_EQ(n.sw, "9q60y60rh7");
  EXPECT_EQ(n.w, "9q60y60rhk");
  EXPECT_EQ(n.nw, "9q60y60rhm");
}

TEST(Geohash, NeighbourWrapsAtAntimeridian) {
  // The eastern neighbour of a cell touching +180 is on the western edge.
  auto east = gh::neighbor("z", gh::Direction::kE).value();
  auto box = gh::decode_bbox(east).value();
  EXPECT_DOUBLE_EQ(box.min.lon, -180.0);
}

TEST(Geohash, RoundTripEveryPrecision) {
  for (std::size_t len = 1; len <= 12; ++len) {
    auto hash = gh::encode(13.405, 52.52, len).value();
    ASSERT_EQ(hash.size(), len);
    auto box = gh::decode_bbox(hash).value();
    EXPECT_LE(box.min.lon, 13.405);
    EXPECT_GT(box.max.lon, 13.405);
    EXPECT_EQ(gh::encode(gh::decode(hash)->centre.lon, gh::decode(hash)->centre.lat, len).value(),
              hash);
  }
}

TEST(Geohash, CellWidths) {
  EXPECT_NEAR(gh::cell_width_meters(7), 153, 1);
  EXPECT_NEAR(gh::cell_width_meters(5), 4892, 5);
  EXPECT_EQ(gh::cell_width_meters(0), 0);
}
