// Seeded random edits through the C++ Document API: maps, nested lists, text with non-BMP
// characters, counters. Shared by the interop peer and the document benchmark's checks.
#pragma once

#include <cstdint>

#include "peat/common/random.hpp"
#include "peat/doc/document.hpp"

namespace peat::interop {

// Applies `ops` random operations to objects reachable from the root (creating some), then
// commits with time 0. Deterministic for a given document state and rng state.
void random_edits(doc::Document& doc, Rng& rng, int ops);

}  // namespace peat::interop
