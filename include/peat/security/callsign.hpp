// Callsigns "WORD-NN": one of 26 NATO words and two decimal digits (2,600 in all). They are
// allocated, not derived from keys.
#pragma once

#include <array>
#include <bitset>
#include <cstdint>
#include <string>
#include <string_view>

#include "peat/common/random.hpp"
#include "peat/common/result.hpp"

namespace peat::security {

inline constexpr std::array<std::string_view, 26> kNatoAlphabet = {
    "ALPHA",  "BRAVO", "CHARLIE", "DELTA",  "ECHO",     "FOXTROT", "GOLF",   "HOTEL",  "INDIA",
    "JULIET", "KILO",  "LIMA",    "MIKE",   "NOVEMBER", "OSCAR",   "PAPA",   "QUEBEC", "ROMEO",
    "SIERRA", "TANGO", "UNIFORM", "VICTOR", "WHISKEY",  "XRAY",    "YANKEE", "ZULU"};

struct Callsign {
  static constexpr std::size_t kTotal = 26 * 100;
  static constexpr std::size_t kMaxLength = 11;  // "NOVEMBER-99"

  std::uint8_t word = 0;    // index into kNatoAlphabet
  std::uint8_t number = 0;  // 0..99

  // Trims ASCII whitespace and ignores case; then exactly WORD '-' two ASCII digits.
  // INVALID_CALLSIGN otherwise (no sign characters, no extra digits).
  static Result<Callsign> parse(std::string_view text);
  std::string to_string() const;
  std::size_t index() const { return std::size_t{word} * 100 + number; }
  bool operator==(const Callsign&) const = default;
};

// Tracks which callsigns are in use and hands out free ones at random.
class CallsignGenerator {
 public:
  explicit CallsignGenerator(Rng& rng) : rng_(rng) {}

  // A uniformly random unused callsign, now reserved; CALLSIGNS_EXHAUSTED when none is left.
  // Always terminates (picks among the free ones, no retry loop).
  Result<Callsign> generate();
  // INVALID_CALLSIGN or CALLSIGN_IN_USE.
  Result<Callsign> reserve(std::string_view text);
  // True when it was in use.
  bool release(std::string_view text);
  // Valid and unused.
  bool is_available(std::string_view text) const;

  std::size_t used_count() const { return used_.count(); }
  std::size_t available_count() const { return Callsign::kTotal - used_.count(); }

 private:
  Rng& rng_;
  std::bitset<Callsign::kTotal> used_;
};

}  // namespace peat::security
