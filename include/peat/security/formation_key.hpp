// Formation key: a shared secret proven by HMAC-SHA256 challenge/response, and the messages of
// that exchange (spec §2.5).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "peat/common/bytes.hpp"
#include "peat/common/random.hpp"
#include "peat/common/sha256.hpp"
#include "peat/security/secret.hpp"

namespace peat::security {

inline constexpr std::size_t kFormationChallengeSize = 32;
inline constexpr std::size_t kFormationResponseSize = 32;
inline constexpr std::chrono::seconds kFormationAuthTimeout{30};
// Frame limits of the QUIC exchange (u32 length prefix): challenge ≤ 1024, response ≤ 256.
inline constexpr std::size_t kMaxChallengeFrame = 1024;
inline constexpr std::size_t kMaxResponseFrame = 256;

using FormationNonce = std::array<std::uint8_t, kFormationChallengeSize>;
using FormationProof = std::array<std::uint8_t, kFormationResponseSize>;

class FormationKey {
 public:
  // hmac_key = HKDF(salt = formation_id, ikm = secret, info = "peat-protocol-v1-formation").
  FormationKey(std::string formation_id, const SecretKey& shared_secret);
  // Trims whitespace, decodes standard base64 (AUTH_FAILED "Invalid base64 shared secret: …");
  // 32 decoded bytes are the secret, any other length is hashed with SHA-256 (Rust behaviour).
  static Result<FormationKey> from_base64(std::string formation_id, std::string_view secret);
  // Base64 of 32 random bytes.
  static std::string generate_secret(Rng& rng);

  const std::string& formation_id() const { return formation_id_; }

  struct Challenge {
    FormationNonce nonce;
    FormationProof expected;
  };
  Challenge create_challenge(Rng& rng) const;
  // HMAC-SHA256(hmac_key, nonce ‖ formation_id ‖ channel_binding). With an empty binding this
  // is the Rust proof. A non-empty binding (e.g. a TLS exporter value of the QUIC connection,
  // known to both ends) ties the proof to that connection, so it cannot be relayed to another
  // one; both sides must use the same binding (not understood by Rust nodes).
  FormationProof respond(ByteView nonce, ByteView channel_binding = {}) const;
  // Constant-time comparison with the expected proof; any length other than 32 is false.
  bool verify_response(ByteView nonce, ByteView response, ByteView channel_binding = {}) const;

  std::string to_string() const;  // formation id only; the key is "[REDACTED]"

 private:
  std::string formation_id_;
  SecretKey hmac_key_;
};

// id_len u16 LE ‖ formation_id (UTF-8) ‖ nonce[32].
struct FormationChallenge {
  std::string formation_id;
  FormationNonce nonce{};

  // SERIALIZATION_ERROR if the id is longer than 65,535 bytes.
  Result<Bytes> encode() const;
  // AUTH_FAILED "Challenge too short" / "Challenge truncated" / "Invalid formation ID: …" /
  // "Challenge has N trailing bytes".
  static Result<FormationChallenge> decode(ByteView bytes);
};

// The 32-byte HMAC proof.
struct FormationChallengeResponse {
  FormationProof response{};

  Bytes encode() const { return {response.begin(), response.end()}; }
  // Exactly 32 bytes (AUTH_FAILED "Response too short" / "Response has N trailing bytes").
  static Result<FormationChallengeResponse> decode(ByteView bytes);
};

enum class FormationAuthResult : std::uint8_t { Rejected = 0x00, Accepted = 0x01 };
inline std::uint8_t to_byte(FormationAuthResult r) {
  return static_cast<std::uint8_t>(r);
}
// 0x01 is Accepted; every other byte is Rejected.
inline FormationAuthResult formation_auth_result_from_byte(std::uint8_t b) {
  return b == 0x01 ? FormationAuthResult::Accepted : FormationAuthResult::Rejected;
}

}  // namespace peat::security
