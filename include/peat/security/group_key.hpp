// Cell (group) keys and the Rust EncryptedCellMessage container (spec §2.9):
// cell_id_len u32 LE ‖ cell_id ‖ generation u64 LE ‖ EncryptedData (nonce ‖ ciphertext ‖ tag).
// As in Rust, cell_id and generation are not bound into the AEAD (no AAD), so the format stays
// readable by Rust nodes; the receiver checks both before decrypting.
#pragma once

#include <cstdint>
#include <string>

#include "peat/common/bytes.hpp"
#include "peat/common/clock.hpp"
#include "peat/common/random.hpp"
#include "peat/security/aead.hpp"

namespace peat::security {

struct EncryptedCellMessage {
  std::string cell_id;
  std::uint64_t generation = 0;
  EncryptedData data;

  Result<Bytes> encode() const;
  // SERIALIZATION_ERROR "message too short" / "message truncated" / bad UTF-8 / short payload.
  static Result<EncryptedCellMessage> decode(ByteView bytes);
};

class GroupKey {
 public:
  // Generation 1 with a random key.
  static GroupKey generate(std::string cell_id, Rng& rng, UnixMillis now_ms);
  GroupKey(std::string cell_id, const SecretKey& key, std::uint64_t generation,
           UnixMillis created_at_ms);

  // A brand-new random key (not derived from the old one), generation + 1.
  void rotate(Rng& rng, UnixMillis now_ms);

  EncryptedCellMessage encrypt(ByteView plaintext, Rng& rng) const;
  // DECRYPTION_ERROR "cell ID mismatch: expected X, got Y", then KEY_GENERATION_MISMATCH,
  // then DECRYPTION_ERROR if the tag does not verify.
  Result<Bytes> decrypt(const EncryptedCellMessage& message) const;

  const std::string& cell_id() const { return cell_id_; }
  std::uint64_t generation() const { return generation_; }
  UnixMillis created_at_ms() const { return created_at_ms_; }
  const SymmetricKey& key() const { return key_; }

 private:
  std::string cell_id_;
  SymmetricKey key_;
  std::uint64_t generation_;
  UnixMillis created_at_ms_;
};

}  // namespace peat::security
