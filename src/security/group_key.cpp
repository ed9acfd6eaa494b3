#include "peat/security/group_key.hpp"

#include "peat/security/errors.hpp"
#include "security/wire.hpp"

namespace peat::security {

Result<Bytes> EncryptedCellMessage::encode() const {
  if (cell_id.size() > UINT32_MAX) return detail::serialization("cell id too long");
  detail::Writer w;
  w.u32(static_cast<std::uint32_t>(cell_id.size()));
  w.str(cell_id);
  w.u64(generation);
  w.bytes(data.to_bytes());
  return w.take();
}

Result<EncryptedCellMessage> EncryptedCellMessage::decode(ByteView bytes) {
  if (bytes.size() < 12) return detail::serialization("message too short");
  detail::Reader r(bytes);
  auto id = r.take(*r.u32());
  auto generation = id ? r.u64() : std::nullopt;
  if (!id || !generation) return detail::serialization("message truncated");
  if (!detail::is_valid_utf8(*id)) return detail::serialization("invalid cell id: not UTF-8");
  auto data = EncryptedData::from_bytes(*r.take(r.remaining()));
  if (!data) return data.error();
  return EncryptedCellMessage{std::string(as_chars(*id)), *generation, std::move(*data)};
}

GroupKey::GroupKey(std::string cell_id, const SecretKey& key, std::uint64_t generation,
                   UnixMillis created_at_ms)
    : cell_id_(std::move(cell_id)),
      key_(key),
      generation_(generation),
      created_at_ms_(created_at_ms) {}

GroupKey GroupKey::generate(std::string cell_id, Rng& rng, UnixMillis now_ms) {
  return GroupKey(std::move(cell_id), SymmetricKey::generate(rng).secret(), 1, now_ms);
}

void GroupKey::rotate(Rng& rng, UnixMillis now_ms) {
  key_ = SymmetricKey::generate(rng);
  ++generation_;
  created_at_ms_ = now_ms;
}

EncryptedCellMessage GroupKey::encrypt(ByteView plaintext, Rng& rng) const {
  return EncryptedCellMessage{cell_id_, generation_, key_.encrypt(plaintext, rng)};
}

Result<Bytes> GroupKey::decrypt(const EncryptedCellMessage& message) const {
  if (message.cell_id != cell_id_) {
    return security_error(errc::kDecryptionError,
                          "cell ID mismatch: expected " + cell_id_ + ", got " + message.cell_id);
  }
  if (message.generation != generation_) {
    return key_generation_mismatch(generation_, message.generation);
  }
  return key_.decrypt(message.data);
}

}  // namespace peat::security
