// Tombstones arrive from peers as JSON: parsing must never crash, and what parses must survive
// a round trip unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "peat/store/doc_store.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto t = peat::store::Tombstone::from_json(text);
  if (t.ok()) {
    auto back = peat::store::Tombstone::from_json(t->to_json());
    if (!back.ok() || !(*back == *t)) std::abort();
  }
  return 0;
}
