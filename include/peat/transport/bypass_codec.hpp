// UDP bypass packets, sans-I/O: the Rust crate's 12-byte "ECHE" header (byte-compatible) and our
// authenticated extension (Ed25519 signature, ChaCha20-Poly1305 encryption, 64-bit sequence,
// send timestamp). Layouts: docs/bypass-format.md.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "peat/common/bytes.hpp"
#include "peat/common/clock.hpp"
#include "peat/common/result.hpp"

namespace peat::transport::bypass {

inline constexpr std::array<std::uint8_t, 4> kMagic = {0x45, 0x43, 0x48, 0x45};  // "ECHE"
inline constexpr std::size_t kHeaderSize = 12;
inline constexpr std::size_t kAuthExtensionSize = 33;  // version, sender id, seq, sent_at
inline constexpr std::size_t kTagSize = 16;
inline constexpr std::size_t kSignatureSize = 64;
inline constexpr std::uint8_t kAuthVersion = 1;
inline constexpr std::uint16_t kDefaultPort = 5150;
inline constexpr std::size_t kMaxUdpPayload = 65507;

enum Flags : std::uint8_t { kCompressed = 0x01, kEncrypted = 0x02, kSigned = 0x04 };

// Low 32 bits of FNV-1a-64 over the name's bytes followed by 0xFF (Rust's Hash for str).
std::uint32_t collection_hash(std::string_view name);
// TTL on the wire: milliseconds clamped to 65535.
std::uint16_t clamp_ttl(std::uint64_t ttl_ms);

struct Header {
  std::uint32_t collection_hash = 0;
  std::uint16_t ttl_ms = 0;
  std::uint8_t flags = 0;
  std::uint8_t sequence = 0;
  bool operator==(const Header&) const = default;
};
void encode_header(const Header& header, Bytes& out);
// Errors: "INVALID_BYPASS_HEADER" (shorter than 12 bytes or wrong magic).
Result<Header> decode_header(ByteView packet);

using SenderId = std::array<std::uint8_t, 16>;   // the sender's device id
using PublicKey = std::array<std::uint8_t, 32>;  // Ed25519
using SecretKey = std::array<std::uint8_t, 64>;  // Ed25519 (libsodium layout: seed ‖ public)
using SymmetricKey = std::array<std::uint8_t, 32>;

enum class Mode : std::uint8_t { kPlain, kSigned, kEncrypted, kSignedEncrypted };
const char* to_string(Mode mode);

struct SenderCredentials {
  SenderId id{};
  std::optional<SecretKey> signing_key;        // needed for kSigned*
  std::optional<SymmetricKey> encryption_key;  // needed for k*Encrypted
};

// Builds packets. Not thread-safe; one per sending socket.
class Encoder {
 public:
  // `first_sequence` must exceed every sequence this sender id ever used with the same keys
  // (the AEAD nonce is derived from it): the transport seeds it from the wall clock in µs.
  Encoder(Mode mode, SenderCredentials credentials, std::uint64_t first_sequence);
  // Errors: "MISSING_CREDENTIAL", "MESSAGE_TOO_LARGE" (packet would exceed 65,507 bytes).
  Result<Bytes> encode(std::uint32_t collection_hash, std::uint16_t ttl_ms, ByteView payload,
                       UnixMillis now);
  Mode mode() const { return mode_; }
  std::uint64_t next_sequence() const { return next_seq_; }

 private:
  Mode mode_;
  SenderCredentials credentials_;
  std::uint64_t next_seq_;
  std::uint8_t plain_seq_ = 0;  // Rust-compatible wrapping u8 counter for kPlain
};

// Sliding replay window over 64-bit sequence numbers (IPsec-style bitmap, any size 1..4096).
class ReplayWindow {
 public:
  explicit ReplayWindow(std::size_t size = 1024);
  // True if `seq` is new and inside the window (does not record it).
  bool check(std::uint64_t seq) const;
  // Records `seq`; call only after check() and authentication passed.
  void commit(std::uint64_t seq);
  std::uint64_t highest() const { return highest_; }

 private:
  bool get(std::uint64_t seq) const;
  std::size_t size_;
  std::uint64_t highest_ = 0;
  bool empty_ = true;
  std::vector<std::uint64_t> bits_;
};

// Maps the Rust header's wrapping u8 sequence onto a 64-bit one: the value nearest to the
// highest seen so far (serial-number arithmetic, RFC 1982). Fixes the Rust quirks: the first
// packet may carry any value, and a window of up to 127 works in both directions.
std::uint64_t extend_u8_sequence(std::uint8_t seq, std::optional<std::uint64_t> highest);

struct SecurityPolicy {
  // Drop packets without the authenticated extension ("UNAUTHENTICATED").
  bool require_authentication = false;
  bool require_signature = false;
  bool require_encryption = false;
  std::optional<SymmetricKey> encryption_key;
  // Senders whose signatures we accept. A signed packet from an id not here is "UNKNOWN_SENDER".
  std::map<SenderId, PublicKey> peer_keys;
  // Source IPs allowed to send (empty: any). Rust: BypassSecurityConfig.source_allowlist.
  std::set<std::string> source_allowlist;
  bool replay_protection = true;
  std::size_t replay_window = 1024;      // authenticated packets (64-bit sequences)
  std::size_t legacy_replay_window = 0;  // plain packets, per source; 0 = off (as in Rust)
  Duration max_clock_skew = std::chrono::seconds(30);
  std::size_t max_packet_size = kMaxUdpPayload;
  std::size_t max_tracked_senders = 4096;  // least recently seen is forgotten beyond this
};

struct Metrics {
  std::uint64_t messages_sent = 0;
  std::uint64_t messages_received = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_received = 0;
  std::uint64_t stale_dropped = 0;
  std::uint64_t invalid_dropped = 0;
  std::uint64_t send_errors = 0;
  std::uint64_t receive_errors = 0;
  std::uint64_t signature_rejected = 0;
  std::uint64_t decryption_failed = 0;
  std::uint64_t unauthorized_source = 0;
  std::uint64_t replay_rejected = 0;
  std::uint64_t oversized_dropped = 0;  // not in Rust
  std::uint64_t unknown_sender = 0;     // not in Rust
};

struct Message {
  Header header;
  std::optional<SenderId> sender;  // set for authenticated packets
  std::uint64_t sequence = 0;      // 64-bit (authenticated) or the u8 header sequence
  UnixMillis sent_at = 0;          // 0 for plain packets (no timestamp on the wire)
  bool signed_by_sender = false;
  bool encrypted = false;
  Bytes payload;
};

// Checks and opens received packets; keeps replay state and metrics. Not thread-safe.
class Decoder {
 public:
  explicit Decoder(SecurityPolicy policy);
  // `source` is the sender's IP as text (for the allowlist and plain-packet replay tracking).
  // Errors: "MESSAGE_TOO_LARGE", "INVALID_BYPASS_HEADER", "TRUNCATED", "UNSUPPORTED_VERSION",
  // "UNAUTHORIZED_SOURCE", "UNAUTHENTICATED", "UNKNOWN_SENDER", "INVALID_SIGNATURE",
  // "DECRYPTION_FAILED", "MISSING_CREDENTIAL", "STALE_MESSAGE", "REPLAY_DETECTED".
  Result<Message> decode(std::string_view source, ByteView packet, UnixMillis now);
  const Metrics& metrics() const { return metrics_; }
  SecurityPolicy& policy() { return policy_; }

 private:
  struct Tracked {
    ReplayWindow window;
    std::uint64_t last_used = 0;
  };
  Result<Message> open(std::string_view source, ByteView packet, UnixMillis now);
  Tracked& tracker(std::map<std::string, Tracked>& map, const std::string& key, std::size_t window);
  SecurityPolicy policy_;
  Metrics metrics_;
  std::map<std::string, Tracked> senders_;
  std::map<std::string, Tracked> legacy_sources_;
  std::uint64_t use_counter_ = 0;
};

// Ed25519 key pair from a 32-byte seed (libsodium crypto_sign_seed_keypair).
std::pair<PublicKey, SecretKey> keypair_from_seed(const std::array<std::uint8_t, 32>& seed);

}  // namespace peat::transport::bypass
