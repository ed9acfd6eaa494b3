// Sync frames and every payload decoder: no crash, no out-of-bounds read, and whatever decodes
// re-encodes to the same bytes.
#include <cstdint>
#include <cstdlib>

#include "peat/sync/wire.hpp"

using namespace peat;
using namespace peat::sync;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

void payload(MessageType type, ByteView p) {
  switch (type) {
    case MessageType::kTombstone:
      if (auto t = decode_tombstone(p); t.ok()) {
        auto e = encode_tombstone(*t);
        // An empty reason and "none" share one encoding, so compare decoded values.
        check(e.ok() && *decode_tombstone(*e) == *t);
      }
      break;
    case MessageType::kTombstoneBatch:
      if (auto b = decode_tombstone_batch(p); b.ok()) {
        auto e = encode_tombstone_batch(*b);
        check(e.ok() && *decode_tombstone_batch(*e) == *b);
      }
      break;
    case MessageType::kSyncBatch:
      if (auto b = decode_sync_batch(p, 1 << 16); b.ok()) {
        auto e = encode_sync_batch(*b);
        check(e.ok() && Bytes(p.begin(), p.end()) == *e);
        (void)batch_content_digest(*b);
        for (const auto& entry : b->entries) payload(entry.type, entry.payload);
      }
      break;
    case MessageType::kDeclined:
      if (auto r = decode_declined(p); r.ok()) {
        check(encode_declined(*r) == Bytes(p.begin(), p.end()));
      }
      break;
    case MessageType::kNegentropyNeed:
      if (auto ids = decode_need_list(p); ids.ok()) {
        check(encode_need_list(*ids) == Bytes(p.begin(), p.end()));
      }
      break;
    default:
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ByteView in(data, size);
  if (auto f = decode_frame(in, 1 << 16); f.ok()) {
    auto e = encode_frame(f->key, f->type, f->payload);
    check(e.ok() && *e == Bytes(in.begin(), in.end()));
    payload(f->type, f->payload);
  }
  std::size_t used = 0;
  if (auto fs = decode_frames(in, used, 1 << 16); fs.ok()) check(used <= size);
  // The raw input as each payload kind too.
  payload(MessageType::kTombstone, in);
  payload(MessageType::kTombstoneBatch, in);
  payload(MessageType::kSyncBatch, in);
  payload(MessageType::kNegentropyNeed, in);
  payload(MessageType::kDeclined, in);
  return 0;
}
