// Sans-I/O drivers for the two security exchanges that run on a QUIC bidirectional stream:
// formation authentication (spec §2.5, ALPN cap/automerge/1) and enrollment (§2.7,
// ALPN peat/enroll/1). Both frame each message as `u32 length (LE) ‖ body`, as the Rust crate
// does. The caller moves bytes and passes the time; nothing here does I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "peat/common/bytes.hpp"
#include "peat/common/clock.hpp"
#include "peat/common/random.hpp"
#include "peat/security/enrollment.hpp"
#include "peat/security/formation_key.hpp"

namespace peat::security {

inline constexpr std::string_view kEnrollmentAlpn = "peat/enroll/1";
inline constexpr std::string_view kSyncAlpn = "cap/automerge/1";
// QUIC application close codes the Rust acceptor uses.
inline constexpr std::uint64_t kCloseFormationAuthFailed = 1;  // "formation auth failed"
inline constexpr std::uint64_t kCloseCertificateRequired = 2;  // "certificate required"

// `u32 length LE ‖ body`. SERIALIZATION_ERROR for bodies over 4 GiB.
Result<Bytes> frame(ByteView body);

// Collects one length-prefixed frame from stream bytes arriving in pieces.
class FrameAssembler {
 public:
  explicit FrameAssembler(std::size_t max_body) : max_body_(max_body) {}
  // Appends `data`; returns the body once complete (later calls return it again, and bytes past
  // the frame are ignored). SERIALIZATION_ERROR "frame too large: N bytes (max M)" as soon as
  // the announced length exceeds the limit.
  Result<std::optional<Bytes>> push(ByteView data);
  // The announced length once the 4-byte prefix arrived.
  std::optional<std::uint32_t> announced_length() const;

 private:
  std::size_t max_body_;
  Bytes buffer_;
};

// Acceptor side: sends a challenge, checks the connector's proof, answers with a verdict byte.
class FormationAcceptor {
 public:
  // SERIALIZATION_ERROR when the formation id makes the challenge exceed 1024 bytes.
  // `channel_binding`: see FormationKey::respond (empty = Rust-compatible).
  static Result<FormationAcceptor> start(const FormationKey& key, Rng& rng, Instant now,
                                         ByteView channel_binding = {});

  // Send this first (`u32 len ‖ challenge`).
  const Bytes& challenge_frame() const { return challenge_frame_; }

  // Feed the bytes the connector sent. Returns nullopt until the response frame is complete;
  // then Accepted or Rejected (a wrong or malformed proof is Rejected). Errors:
  // CHALLENGE_EXPIRED after kFormationAuthTimeout; AUTH_FAILED for a frame over 256 bytes.
  Result<std::optional<FormationAuthResult>> on_data(ByteView data, Instant now);

  // The verdict byte to write before finishing the stream.
  static std::uint8_t verdict_byte(FormationAuthResult r) { return to_byte(r); }

 private:
  FormationAcceptor(const FormationKey& key, const FormationNonce& nonce, Bytes challenge_frame,
                    Instant now, ByteView channel_binding)
      : key_(key),
        nonce_(nonce),
        challenge_frame_(std::move(challenge_frame)),
        binding_(channel_binding.begin(), channel_binding.end()),
        started_(now) {}

  const FormationKey& key_;
  FormationNonce nonce_;
  Bytes challenge_frame_;
  Bytes binding_;
  Instant started_;
  FrameAssembler response_{kMaxResponseFrame};
  std::optional<FormationAuthResult> result_;
};

// Connector side: answers the acceptor's challenge and reads the verdict.
class FormationConnector {
 public:
  FormationConnector(const FormationKey& key, Instant now, ByteView channel_binding = {})
      : key_(key), binding_(channel_binding.begin(), channel_binding.end()), started_(now) {}

  struct Output {
    std::optional<Bytes> send;                  // the response frame, once
    std::optional<FormationAuthResult> result;  // once the verdict byte arrived
  };
  // Feed the bytes the acceptor sent. Errors: CHALLENGE_EXPIRED after kFormationAuthTimeout;
  // AUTH_FAILED for a challenge over 1024 bytes, a malformed challenge or another formation
  // ("formation ID mismatch: expected X, got Y") — then abort without answering.
  Result<Output> on_data(ByteView data, Instant now);

 private:
  const FormationKey& key_;
  Bytes binding_;
  Instant started_;
  FrameAssembler challenge_{kMaxChallengeFrame};
  bool responded_ = false;
};

// Enrollment client: the bytes to write (then finish the stream).
Result<Bytes> enrollment_request_frame(const EnrollmentRequest& request);
// Enrollment client: decode the server's whole reply (`u32 len ‖ response`, ≤ 65,536 bytes).
Result<EnrollmentResponse> parse_enrollment_response_frame(ByteView stream);

// Enrollment server: everything the client wrote (stream finished) → the bytes to answer with,
// as the Rust handler does: too large → Denied "request too large: N bytes (max 65536)",
// undecodable → Denied "malformed request: …", service error → Denied "enrollment error: …".
// An incomplete frame (client hung up early) is SERIALIZATION_ERROR: send nothing.
Result<Bytes> serve_enrollment(StaticEnrollmentService& service, ByteView stream,
                               UnixMillis now_ms);

}  // namespace peat::security
