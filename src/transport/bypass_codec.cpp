#include "peat/transport/bypass_codec.hpp"

#include <sodium.h>

#include <algorithm>
#include <cstring>

#include "peat/common/byte_io.hpp"

namespace peat::transport::bypass {

namespace {

constexpr std::size_t kAuthEnd = kHeaderSize + kAuthExtensionSize;  // 45
constexpr std::string_view kSubkeyContext = "peat-bypass-v1";

void ensure_sodium() {
  static const int init = sodium_init();
  (void)init;
}

// Per-sender encryption key: BLAKE2b-256 keyed with the shared key over context ‖ sender id.
// Every sender thus has its own key, and the nonce only has to be unique per sender.
SymmetricKey sender_subkey(const SymmetricKey& key, const SenderId& sender) {
  Bytes input(kSubkeyContext.begin(), kSubkeyContext.end());
  input.insert(input.end(), sender.begin(), sender.end());
  SymmetricKey out{};
  crypto_generichash(out.data(), out.size(), input.data(), input.size(), key.data(), key.size());
  return out;
}

std::array<std::uint8_t, 12> nonce_for(std::uint64_t seq) {
  std::array<std::uint8_t, 12> nonce{};
  for (int i = 0; i < 8; ++i) nonce[4 + i] = static_cast<std::uint8_t>(seq >> (8 * (7 - i)));
  return nonce;
}

}  // namespace

std::uint32_t collection_hash(std::string_view name) {
  std::uint64_t h = 14695981039346656037ULL;
  auto step = [&h](std::uint8_t b) {
    h ^= b;
    h *= 1099511628211ULL;
  };
  for (char c : name) step(static_cast<std::uint8_t>(c));
  step(0xff);
  return static_cast<std::uint32_t>(h);
}

std::uint16_t clamp_ttl(std::uint64_t ttl_ms) {
  return static_cast<std::uint16_t>(std::min<std::uint64_t>(ttl_ms, 65535));
}

const char* to_string(Mode mode) {
  switch (mode) {
    case Mode::kPlain:
      return "plain";
    case Mode::kSigned:
      return "signed";
    case Mode::kEncrypted:
      return "encrypted";
    case Mode::kSignedEncrypted:
      return "signed+encrypted";
  }
  return "unknown";
}

void encode_header(const Header& header, Bytes& out) {
  BeWriter w;
  w.out().swap(out);  // append after what out already holds
  w.bytes(kMagic);
  w.u32(header.collection_hash);
  w.u16(header.ttl_ms);
  w.u8(header.flags);
  w.u8(header.sequence);
  out = w.take();
}

Result<Header> decode_header(ByteView packet) {
  if (packet.size() < kHeaderSize) {
    return make_error("INVALID_BYPASS_HEADER", "packet shorter than 12 bytes");
  }
  if (!std::equal(kMagic.begin(), kMagic.end(), packet.begin())) {
    return make_error("INVALID_BYPASS_HEADER", "bad magic");
  }
  BeReader r(packet.subspan(kMagic.size(), kHeaderSize - kMagic.size()));
  Header h;  // the size check above covers every field
  h.collection_hash = *r.u32();
  h.ttl_ms = *r.u16();
  h.flags = *r.u8();
  h.sequence = *r.u8();
  return h;
}

std::pair<PublicKey, SecretKey> keypair_from_seed(const std::array<std::uint8_t, 32>& seed) {
  ensure_sodium();
  PublicKey pk{};
  SecretKey sk{};
  crypto_sign_seed_keypair(pk.data(), sk.data(), seed.data());
  return {pk, sk};
}

// ---------------------------------------------------------------- Encoder

Encoder::Encoder(Mode mode, SenderCredentials credentials, std::uint64_t first_sequence)
    : mode_(mode), credentials_(std::move(credentials)), next_seq_(first_sequence) {
  ensure_sodium();
}

Result<Bytes> Encoder::encode(std::uint32_t hash, std::uint16_t ttl_ms, ByteView payload,
                              UnixMillis now) {
  const bool sign = mode_ == Mode::kSigned || mode_ == Mode::kSignedEncrypted;
  const bool encrypt = mode_ == Mode::kEncrypted || mode_ == Mode::kSignedEncrypted;
  if (sign && !credentials_.signing_key) {
    return make_error("MISSING_CREDENTIAL",
                      "signing key required for " + std::string(to_string(mode_)));
  }
  if (encrypt && !credentials_.encryption_key) {
    return make_error("MISSING_CREDENTIAL",
                      "encryption key required for " + std::string(to_string(mode_)));
  }
  std::size_t total = kHeaderSize + payload.size();
  if (mode_ != Mode::kPlain) {
    total += kAuthExtensionSize + (encrypt ? kTagSize : 0) + (sign ? kSignatureSize : 0);
  }
  if (total > kMaxUdpPayload) {
    return make_error("MESSAGE_TOO_LARGE", "packet of " + std::to_string(total) +
                                               " bytes exceeds " + std::to_string(kMaxUdpPayload));
  }
  BeWriter w;
  Bytes& out = w.out();
  out.reserve(total);
  if (mode_ == Mode::kPlain) {
    encode_header({hash, ttl_ms, 0, plain_seq_++}, out);
    out.insert(out.end(), payload.begin(), payload.end());
    return w.take();
  }
  std::uint64_t seq = next_seq_++;
  std::uint8_t flags = (sign ? kSigned : 0) | (encrypt ? kEncrypted : 0);
  encode_header({hash, ttl_ms, flags, static_cast<std::uint8_t>(seq)}, out);
  w.u8(kAuthVersion);
  w.bytes(credentials_.id);
  w.u64(seq);
  w.u64(now);
  if (encrypt) {
    SymmetricKey key = sender_subkey(*credentials_.encryption_key, credentials_.id);
    auto nonce = nonce_for(seq);
    std::size_t at = out.size();
    out.resize(at + payload.size() + kTagSize);
    unsigned long long written = 0;
    crypto_aead_chacha20poly1305_ietf_encrypt(out.data() + at, &written, payload.data(),
                                              payload.size(), out.data(), kAuthEnd, nullptr,
                                              nonce.data(), key.data());
    sodium_memzero(key.data(), key.size());
  } else {
    out.insert(out.end(), payload.begin(), payload.end());
  }
  if (sign) {
    std::size_t at = out.size();
    out.resize(at + kSignatureSize);
    crypto_sign_detached(out.data() + at, nullptr, out.data(), at,
                         credentials_.signing_key->data());
  }
  return w.take();
}

// ---------------------------------------------------------------- ReplayWindow

ReplayWindow::ReplayWindow(std::size_t size)
    : size_(std::clamp<std::size_t>(size, 1, 4096)), bits_((size_ + 63) / 64, 0) {}

bool ReplayWindow::get(std::uint64_t seq) const {
  std::size_t bit = seq % (bits_.size() * 64);
  return (bits_[bit / 64] >> (bit % 64)) & 1;
}

bool ReplayWindow::check(std::uint64_t seq) const {
  if (empty_ || seq > highest_) return true;
  if (highest_ - seq >= size_) return false;  // too old to judge: reject
  return !get(seq);
}

void ReplayWindow::commit(std::uint64_t seq) {
  const std::size_t span = bits_.size() * 64;
  if (empty_ || seq > highest_) {
    if (empty_ || seq - highest_ >= span) {
      std::fill(bits_.begin(), bits_.end(), 0);
    } else {
      for (std::uint64_t s = highest_ + 1; s <= seq; ++s) {
        std::size_t bit = s % span;
        bits_[bit / 64] &= ~(std::uint64_t{1} << (bit % 64));
      }
    }
    highest_ = seq;
    empty_ = false;
  }
  std::size_t bit = seq % span;
  bits_[bit / 64] |= std::uint64_t{1} << (bit % 64);
}

std::uint64_t extend_u8_sequence(std::uint8_t seq, std::optional<std::uint64_t> highest) {
  if (!highest) return 256 + seq;  // leave room below the first value
  auto diff = static_cast<std::int8_t>(static_cast<std::uint8_t>(seq - (*highest & 0xff)));
  return static_cast<std::uint64_t>(static_cast<std::int64_t>(*highest) + diff);
}

// ---------------------------------------------------------------- Decoder

Decoder::Decoder(SecurityPolicy policy) : policy_(std::move(policy)) {
  ensure_sodium();
}

Decoder::Tracked& Decoder::tracker(std::map<std::string, Tracked>& map, const std::string& key,
                                   std::size_t window) {
  auto it = map.find(key);
  if (it == map.end()) {
    if (map.size() >= std::max<std::size_t>(1, policy_.max_tracked_senders)) {
      auto oldest = std::min_element(map.begin(), map.end(), [](const auto& a, const auto& b) {
        return a.second.last_used < b.second.last_used;
      });
      map.erase(oldest);
    }
    it = map.emplace(key, Tracked{ReplayWindow(window), 0}).first;
  }
  it->second.last_used = ++use_counter_;
  return it->second;
}

Result<Message> Decoder::decode(std::string_view source, ByteView packet, UnixMillis now) {
  auto result = open(source, packet, now);
  if (result.ok()) {
    ++metrics_.messages_received;
    metrics_.bytes_received += packet.size();
  } else {
    ++metrics_.receive_errors;
    const std::string& code = result.error().code;
    if (code == "MESSAGE_TOO_LARGE")
      ++metrics_.oversized_dropped;
    else if (code == "UNAUTHORIZED_SOURCE")
      ++metrics_.unauthorized_source;
    else if (code == "UNKNOWN_SENDER")
      ++metrics_.unknown_sender;
    else if (code == "INVALID_SIGNATURE" || code == "UNAUTHENTICATED")
      ++metrics_.signature_rejected;
    else if (code == "DECRYPTION_FAILED" || code == "MISSING_CREDENTIAL")
      ++metrics_.decryption_failed;
    else if (code == "STALE_MESSAGE")
      ++metrics_.stale_dropped;
    else if (code == "REPLAY_DETECTED")
      ++metrics_.replay_rejected;
    else
      ++metrics_.invalid_dropped;
  }
  return result;
}

Result<Message> Decoder::open(std::string_view source, ByteView packet, UnixMillis now) {
  if (packet.size() > policy_.max_packet_size) {
    return make_error("MESSAGE_TOO_LARGE", std::to_string(packet.size()) + " bytes");
  }
  auto header = decode_header(packet);
  if (!header) return header.error();
  if (!policy_.source_allowlist.empty() &&
      !policy_.source_allowlist.contains(std::string(source))) {
    return make_error("UNAUTHORIZED_SOURCE", "unauthorized source IP: " + std::string(source));
  }
  Message msg;
  msg.header = *header;
  const std::uint8_t auth_flags = header->flags & (kSigned | kEncrypted);

  if (auth_flags == 0) {
    if (policy_.require_authentication || policy_.require_signature || policy_.require_encryption) {
      return make_error("UNAUTHENTICATED", "plain packet where authentication is required");
    }
    msg.sequence = header->sequence;
    if (policy_.replay_protection && policy_.legacy_replay_window > 0) {
      auto& t = tracker(legacy_sources_, std::string(source),
                        std::min<std::size_t>(policy_.legacy_replay_window, 128));
      std::optional<std::uint64_t> highest;
      if (t.window.highest() != 0) highest = t.window.highest();
      std::uint64_t seq64 = extend_u8_sequence(header->sequence, highest);
      if (!t.window.check(seq64)) {
        return make_error("REPLAY_DETECTED", "replay attack detected (sequence " +
                                                 std::to_string(header->sequence) + ")");
      }
      t.window.commit(seq64);
    }
    msg.payload.assign(packet.begin() + kHeaderSize, packet.end());
    return msg;
  }

  const bool is_signed = auth_flags & kSigned;
  const bool is_encrypted = auth_flags & kEncrypted;
  if (packet.size() < kAuthEnd) return make_error("TRUNCATED", "authenticated header cut short");
  if (packet[kHeaderSize] != kAuthVersion) {
    return make_error("UNSUPPORTED_VERSION", "auth version " + std::to_string(packet[kHeaderSize]));
  }
  SenderId sender{};
  std::memcpy(sender.data(), &packet[kHeaderSize + 1], sender.size());
  BeReader ext(packet.subspan(kHeaderSize + 1 + sender.size()));  // within kAuthEnd, checked above
  const std::uint64_t seq = *ext.u64();
  const UnixMillis sent_at = *ext.u64();
  if (static_cast<std::uint8_t>(seq) != header->sequence) {
    return make_error("INVALID_BYPASS_HEADER", "header sequence does not match the extension");
  }
  if (policy_.require_signature && !is_signed) {
    return make_error("UNAUTHENTICATED", "unsigned packet where signatures are required");
  }
  if (policy_.require_encryption && !is_encrypted) {
    return make_error("UNAUTHENTICATED", "unencrypted packet where encryption is required");
  }

  std::size_t body_end = packet.size();
  if (is_signed) {
    if (packet.size() < kAuthEnd + kSignatureSize) return make_error("TRUNCATED", "no signature");
    body_end -= kSignatureSize;
    auto key = policy_.peer_keys.find(sender);
    if (key == policy_.peer_keys.end()) {
      return make_error("UNKNOWN_SENDER", "no public key for sender " + to_hex(sender));
    }
    if (crypto_sign_verify_detached(&packet[body_end], packet.data(), body_end,
                                    key->second.data()) != 0) {
      return make_error("INVALID_SIGNATURE", "invalid message signature");
    }
  }

  // TTL: enforceable here because the authenticated header carries the send time.
  const auto skew = static_cast<UnixMillis>(
      std::chrono::duration_cast<std::chrono::milliseconds>(policy_.max_clock_skew).count());
  if (sent_at > now + skew) return make_error("STALE_MESSAGE", "sent in the future");
  if (header->ttl_ms > 0 && now > sent_at && now - sent_at > header->ttl_ms + skew) {
    return make_error("STALE_MESSAGE", "message is stale (past TTL)");
  }

  // Look up only: state for a sender is created after the packet proved authentic, so forged
  // packets cannot evict real senders' windows.
  const std::string sender_key = to_hex(sender);
  if (policy_.replay_protection) {
    auto known = senders_.find(sender_key);
    if (known != senders_.end() && !known->second.window.check(seq)) {
      return make_error("REPLAY_DETECTED",
                        "replay attack detected (sequence " + std::to_string(seq) + ")");
    }
  }

  if (is_encrypted) {
    if (!policy_.encryption_key) {
      return make_error("MISSING_CREDENTIAL", "no encryption key configured");
    }
    if (body_end < kAuthEnd + kTagSize) return make_error("TRUNCATED", "ciphertext too short");
    SymmetricKey key = sender_subkey(*policy_.encryption_key, sender);
    auto nonce = nonce_for(seq);
    msg.payload.resize(body_end - kAuthEnd - kTagSize);
    unsigned long long written = 0;
    int rc = crypto_aead_chacha20poly1305_ietf_decrypt(
        msg.payload.data(), &written, nullptr, &packet[kAuthEnd], body_end - kAuthEnd,
        packet.data(), kAuthEnd, nonce.data(), key.data());
    sodium_memzero(key.data(), key.size());
    if (rc != 0) return make_error("DECRYPTION_FAILED", "message decryption failed");
  } else {
    msg.payload.assign(packet.begin() + kAuthEnd, packet.begin() + body_end);
  }

  if (policy_.replay_protection) {
    tracker(senders_, sender_key, policy_.replay_window).window.commit(seq);
  }
  msg.sender = sender;
  msg.sequence = seq;
  msg.sent_at = sent_at;
  msg.signed_by_sender = is_signed;
  msg.encrypted = is_encrypted;
  return msg;
}

}  // namespace peat::transport::bypass
