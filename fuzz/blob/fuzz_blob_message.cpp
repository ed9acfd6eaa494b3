// Blob protocol messages arrive from peers: decoding must never crash, hang or read out of
// bounds, and whatever decodes must encode to bytes that decode to the same message.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <variant>

#include "peat/blob/blob_message.hpp"

namespace {

bool same(const peat::blob::BlobMessage& a, const peat::blob::BlobMessage& b) {
  using peat::blob::ChunkMsg;
  if (a.index() != b.index()) return false;
  if (const auto* ca = std::get_if<ChunkMsg>(&a)) {
    const auto& cb = std::get<ChunkMsg>(b);
    return ca->transfer_id == cb.transfer_id && ca->offset == cb.offset &&
           std::equal(ca->data.begin(), ca->data.end(), cb.data.begin(), cb.data.end());
  }
  return std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, ChunkMsg>) {
          return false;
        } else {
          return x == std::get<T>(b);
        }
      },
      a);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto decoded = peat::blob::decode_message(peat::ByteView(data, size));
  if (!decoded.ok()) {
    if (decoded.error().code != "BLOB_BAD_MESSAGE") std::abort();
    return 0;
  }
  peat::Bytes again = std::visit([](const auto& m) { return peat::blob::encode(m); }, *decoded);
  auto back = peat::blob::decode_message(again);
  if (!back.ok() || !same(*decoded, *back)) std::abort();
  return 0;
}
