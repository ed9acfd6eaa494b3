// Byte vectors recorded from @automerge/automerge 3.5.0 (see the format spec, sections 2.12, 3.7).
#pragma once

#include <string>

#include "peat/common/bytes.hpp"
#include "peat/doc/types.hpp"

namespace peat::doc::sync::testing {

inline Bytes hex(const std::string& text) {
  std::string clean;
  for (char c : text) {
    if (c != ' ') clean.push_back(c);
  }
  auto b = from_hex(clean);
  return b.ok() ? b.value() : Bytes{};
}

inline ChangeHash hash_of(const std::string& text) {
  ChangeHash h{};
  Bytes b = hex(text);
  for (std::size_t i = 0; i < h.size() && i < b.size(); ++i) h[i] = b[i];
  return h;
}

// change(init({actor:"aaaa"}), {time:0}, d => { d.x = 1 })
inline const std::string kChangeHex =
    "856f4a832211 20a4 0121 0002aaaa01010000000615033401420256025701 70027f0178017f017f14017f00";
inline const std::string kChangeHashHex =
    "221120a4c5f1bd0b507beb771b9e20c59bce1c97b23be4f1de9fbe36ea849e6c";

}  // namespace peat::doc::sync::testing
