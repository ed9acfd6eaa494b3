#include "peat/doc/sync/state.hpp"

#include "doc/sync/wire.hpp"

namespace peat::doc::sync {
namespace {
constexpr std::uint8_t kStateType = 0x43;
constexpr const char* kCode = "INVALID_SYNC_STATE";
}  // namespace

Bytes encode_state(const State& state) {
  Bytes out{kStateType};
  wire::put_hashes(out, state.shared_heads);
  return out;
}

Result<State> decode_state(ByteView data) {
  wire::Reader r(data, kCode);
  auto type = r.byte("sync state type");
  if (!type) return type.error();
  if (*type != kStateType) {
    return make_error(
        kCode, "unknown sync state type 0x" + to_hex(ByteView(&*type, 1)) + " (expected 0x43)");
  }
  auto heads = r.hashes("shared heads");
  if (!heads) return heads.error();
  State s;
  s.shared_heads = std::move(*heads);
  s.their_have = std::vector<Have>{};
  return s;
}

}  // namespace peat::doc::sync
