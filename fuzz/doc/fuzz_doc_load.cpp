// Document::load on arbitrary bytes: must fail cleanly or produce a document that saves,
// reloads to the same heads and renders as JSON.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "peat/doc/document.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace peat::doc;
  auto doc = Document::load(peat::ByteView(data, size), peat::Bytes{0x01});
  if (!doc) return 0;
  (void)to_json(*doc);
  auto heads = doc->get_heads();
  auto saved = doc->save();
  auto again = Document::load(saved, peat::Bytes{0x02});
  if (!again || again->get_heads() != heads) std::abort();
  (void)doc->get_changes({});
  (void)doc->get_missing_deps({});
  return 0;
}
