#include "trace.hpp"

#include "peat/common/random.hpp"

namespace peat::bench {

std::vector<Edit> make_trace(std::uint64_t seed) {
  SeededRng rng(seed);
  static constexpr char kLetters[] = "etaoinshrdlucmfwypvbgkjqxz";
  std::vector<Edit> out;
  out.reserve(kTraceInserts + kTraceDeletes);
  std::size_t inserts_left = kTraceInserts, deletes_left = kTraceDeletes;
  std::size_t len = 0, cursor = 0;
  while (inserts_left + deletes_left > 0) {
    // Jump elsewhere now and then: 1 edit in 40, to a uniformly random place.
    if (len > 0 && rng.uniform(40) == 0) cursor = rng.uniform(len + 1);
    // Deletes come in bursts of backspaces, at the rate that uses them all up by the end.
    const bool can_delete = cursor > 0 && deletes_left > 0;
    const bool del = can_delete &&
                     (inserts_left == 0 || rng.uniform(inserts_left + deletes_left) < deletes_left);
    if (del) {
      std::size_t burst = 1 + rng.uniform(6);
      while (burst-- > 0 && cursor > 0 && deletes_left > 0) {
        --cursor;
        --len;
        --deletes_left;
        out.push_back({static_cast<std::uint32_t>(cursor), 1, 0});
      }
    } else {
      if (inserts_left == 0) {  // only deletes remain but the cursor is at 0: move it
        cursor = len;
        continue;
      }
      const auto r = rng.uniform(100);
      const char ch = r < 16 ? ' ' : r < 18 ? '\n' : r < 20 ? '.' : kLetters[rng.uniform(26)];
      out.push_back({static_cast<std::uint32_t>(cursor), 0, ch});
      ++cursor;
      ++len;
      --inserts_left;
    }
  }
  return out;
}

std::string apply_to_string(const std::vector<Edit>& trace) {
  std::string s;
  for (const auto& e : trace) {
    if (e.del) {
      s.erase(e.pos, 1);
    } else {
      s.insert(s.begin() + e.pos, e.ch);
    }
  }
  return s;
}

}  // namespace peat::bench
