// A deterministic text-editing trace shaped like the automerge-perf trace: 182,315 single-char
// inserts and 77,463 single-char deletes (259,778 edits). A cursor mostly types and backspaces
// where it is, sometimes jumps to another place in the text.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace peat::bench {

struct Edit {
  std::uint32_t pos = 0;
  std::uint8_t del = 0;  // 0 or 1
  char ch = 0;           // inserted character when del == 0
};

inline constexpr std::size_t kTraceInserts = 182315;
inline constexpr std::size_t kTraceDeletes = 77463;

std::vector<Edit> make_trace(std::uint64_t seed);
// Applies the trace to a plain string (the expected final text).
std::string apply_to_string(const std::vector<Edit>& trace);

}  // namespace peat::bench
