// Enrollment over QUIC ALPN peat/enroll/1 (Channel::kEnrollment), server and client
// (docs/certificates.md, spec security §2.7, storage §1.20).
//
// One kEnrollment message each way: the client sends an EnrollmentRequest, the server answers
// with an EnrollmentResponse (the security codecs; the QUIC transport frames messages itself).
// The certificate's subject must be the QUIC key the client proved in the handshake, so the
// certificate names the key peers see on the sync channel (the Rust node issues it for
// whatever key the request names, which never matches the endpoint key its gate compares).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "peat/common/bytes.hpp"
#include "peat/common/clock.hpp"
#include "peat/common/random.hpp"
#include "peat/runtime/io_loop.hpp"
#include "peat/security/certificate.hpp"
#include "peat/security/enrollment.hpp"
#include "peat/security/keypair.hpp"
#include "peat/transport/quic/quic_transport.hpp"

namespace peat::mesh {

// A bootstrap token and the tier it grants (permissions are always STANDARD, as in Rust).
struct EnrollmentToken {
  std::string token;
  security::MeshTier tier = security::MeshTier::Tactical;
  bool tier_defaulted = false;  // no or unknown tier given: Tactical
};
// PEAT_ENROLLMENT_TOKENS: "tok1=tier,tok2". Items and tiers are trimmed, empty items dropped;
// tiers are case-insensitive; a missing or unknown tier is Tactical.
std::vector<EnrollmentToken> parse_enrollment_tokens(std::string_view text);

// Largest enrollment message either way (spec: 64 KiB), and the transport limit of the
// enrollment endpoint: bigger requests up to this get a Denied answer, beyond it the
// connection is closed.
inline constexpr std::size_t kMaxEnrollmentRequest = security::kMaxEnrollmentMessage;
inline constexpr std::size_t kEnrollmentTransportLimit = 1024 * 1024;
// Certificates issued by the node are valid this long (Rust: 24 h).
inline constexpr UnixMillis kEnrollmentValidityMs = 24ull * 60 * 60 * 1000;

// Sans-I/O server: a request message from a connection → the response message.
class EnrollmentServer {
 public:
  // Tokens are one-time (consumed by their first approval; the security service's rule).
  EnrollmentServer(security::DeviceKeypair authority, std::string mesh_id,
                   const std::vector<EnrollmentToken>& tokens,
                   UnixMillis validity_ms = kEnrollmentValidityMs);

  // Called with each issued certificate (e.g. to write it to the certificate store).
  void on_issued(std::function<void(const security::MeshCertificate&)> fn) {
    on_issued_ = std::move(fn);
  }

  // `peer_key` is the public key the connection authenticated. Always a response (Denied with
  // the Rust reasons: "request too large: N bytes (max 65536)", "malformed request: …",
  // "enrollment error: …", "mesh ID mismatch: expected X, got Y", "invalid bootstrap token",
  // plus "subject key does not match the connection's QUIC key").
  Bytes handle(const security::PublicKeyBytes& peer_key, ByteView request, UnixMillis now_ms);

  const security::PublicKeyBytes& authority_key() const {
    return service_.authority().public_key_bytes();
  }
  const std::string& mesh_id() const { return service_.mesh_id(); }
  std::size_t remaining_tokens() const { return service_.remaining_tokens(); }

 private:
  security::StaticEnrollmentService service_;
  std::function<void(const security::MeshCertificate&)> on_issued_;
};

// The QUIC endpoint of an EnrollmentServer: ALPN peat/enroll/1, any authenticated key admitted
// (the enrolling node is not a member yet). Either its own socket, or served on the node's QUIC
// transport (QuicTransport::serve), i.e. on the node's QUIC port as in Rust. Runs on `loop`.
class EnrollmentListener {
 public:
  struct Config {
    transport::quic::Identity identity;
    std::string bind_host = "0.0.0.0";
    std::uint16_t port = 0;  // 0: any free port
  };
  // `server` and `rng` must outlive the listener.
  EnrollmentListener(runtime::IoLoop& loop, Rng& rng, Config config, EnrollmentServer& server);
  // On the node's own transport (`shared` must outlive the listener, and accept peat/enroll/1).
  EnrollmentListener(runtime::IoLoop& loop, transport::quic::QuicTransport& shared,
                     EnrollmentServer& server);
  ~EnrollmentListener();
  EnrollmentListener(const EnrollmentListener&) = delete;
  EnrollmentListener& operator=(const EnrollmentListener&) = delete;

  Status start();  // BIND_FAILED, INVALID_IDENTITY
  void stop();
  std::optional<std::uint16_t> local_port() const;
  const transport::PeerId& peer_id() const;
  std::uint64_t requests() const { return requests_; }

 private:
  runtime::IoLoop& loop_;
  EnrollmentServer& server_;
  void on_request(const transport::PeerId& peer, Bytes message);

  std::unique_ptr<transport::quic::QuicTransport> own_;
  transport::quic::QuicTransport* quic_ = nullptr;  // own_, or the node's transport
  bool serving_ = false;                            // served on the node's transport
  std::map<transport::PeerId, security::PublicKeyBytes> keys_;
  std::uint64_t requests_ = 0;
};

struct EnrollClientOptions {
  std::string server_host;
  std::uint16_t server_port = 0;
  transport::PeerId server_id;  // device id hex of the server's enrollment key (pinned)
  // The key the certificate is for: the node's QUIC identity. The client dials with it.
  const security::DeviceKeypair* identity = nullptr;
  std::string mesh_id = "peat";
  std::string node_id;
  security::MeshTier requested_tier = security::MeshTier::Tactical;
  Bytes token;
  // When set, the certificate must be issued by this key (check_enrollment_response).
  std::optional<security::PublicKeyBytes> authority;
  std::chrono::milliseconds timeout{10000};
};

// Dials the server over QUIC (ALPN peat/enroll/1), sends the request and waits for the answer.
// The approved certificate is checked: subject = identity, mesh, signature, validity, and the
// issuer when `authority` is pinned. Errors: ENROLLMENT_DENIED "<server's reason>", TIMEOUT,
// TRANSPORT "<why the connection failed>", INVALID_CONFIG, and the check's errors.
Result<security::MeshCertificate> enroll(const EnrollClientOptions& options);

}  // namespace peat::mesh
