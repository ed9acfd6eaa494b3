// The change chunk decoder on arbitrary bytes: must fail cleanly; a decoded change must
// re-encode to a body that decodes again to the same op count.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "doc/change.hpp"
#include "doc/chunk.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace peat::doc;
  peat::ByteView input(data, size);
  // Either a whole chunk or a bare change body.
  auto chunks = chunk::split_chunks(input);
  peat::ByteView body = input;
  if (chunks && !chunks->empty() && chunks->front().type == chunk::ChunkType::kChange) {
    body = chunks->front().body;
  }
  auto c = decode_change_body(body);
  if (!c) return 0;
  auto re = encode_change_body(*c, c->actors, 0);
  auto back = decode_change_body(re);
  if (!back || back->ops.size() != c->ops.size()) std::abort();
  return 0;
}
