// CertificateService: what a node runs for certificates (docs/certificates.md) — the CRDT
// certificate store and its watcher, the Layer-2 gate on the sync channel, and the enrollment
// endpoint. It lives on the mesh's network thread; the mesh forwards transport events to it and
// it calls back through CertificateHooks when a peer is admitted.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "peat/common/bytes.hpp"
#include "peat/common/random.hpp"
#include "peat/mesh/certificate_gate.hpp"
#include "peat/mesh/certificate_store.hpp"
#include "peat/mesh/config.hpp"
#include "peat/mesh/enrollment_service.hpp"
#include "peat/runtime/io_loop.hpp"
#include "peat/security/trust.hpp"
#include "peat/store/document_store.hpp"
#include "peat/transport/transport.hpp"

namespace peat::mesh {

struct CertificateOptions {
  std::optional<security::PublicKeyBytes> authority_key;  // gating on when set
  bool require = false;
  std::vector<EnrollmentToken> tokens;  // enrollment on when non-empty
  std::optional<Bytes> formation_seed;  // the enrollment authority derives from it
  std::string mesh_id = "peat";
  std::string enrollment_bind_host = "0.0.0.0";
  // Unset: enrollment is served on the node's QUIC port (QuicTransport::serve). Set: a
  // separate endpoint on this UDP port (0: any free port).
  std::optional<std::uint16_t> enrollment_port;
  std::optional<security::MeshCertificate> own_certificate;
  UnixMillis presentation_timeout_ms = 5000;
  std::chrono::milliseconds recheck_interval{30000};  // expiry sweep
};

// MeshConfig → options: parses authority_key (INVALID_CONFIG unless 64 hex digits of a valid
// key), the tokens, reads certificate_file (INVALID_CONFIG when unreadable/undecodable or not
// for `endpoint_key`). Enrollment shares the QUIC port unless enrollment_port is set.
Result<CertificateOptions> certificate_options(const MeshConfig& config,
                                               const std::optional<Bytes>& formation_seed,
                                               const security::PublicKeyBytes& endpoint_key);

struct CertificateHooks {
  // The peer may sync now (start its sync session).
  std::function<void(const transport::PeerId&)> admit;
  // A sync message held while the peer's certificate was checked, in arrival order.
  std::function<void(const transport::PeerId&, Bytes)> deliver;
  // A readable name for logs (node id).
  std::function<std::string(const transport::PeerId&)> name;
};

class CertificateService {
 public:
  // `transport` carries the sync links (the gate's control messages go on it); `docs` may be
  // null (no store: the bundle is in memory only). All must outlive the service.
  CertificateService(runtime::IoLoop& loop, Rng& rng, transport::Transport& transport,
                     store::DocumentStore* docs, CertificateOptions options,
                     const security::DeviceKeypair& endpoint, CertificateHooks hooks);
  ~CertificateService();
  CertificateService(const CertificateService&) = delete;
  CertificateService& operator=(const CertificateService&) = delete;

  // Loads the store into the bundle, starts the watcher, timers and the enrollment endpoint.
  Status start();
  void stop();

  bool gating() const { return options_.authority_key.has_value(); }
  bool enrollment_enabled() const { return server_ != nullptr; }
  std::optional<std::uint16_t> enrollment_port() const;

  // Transport events of the sync transport (network thread).
  void on_connected(const transport::PeerId& peer, const security::PublicKeyBytes& key);
  // true: the message was the gate's (consumed).
  bool on_control(const transport::PeerId& peer, ByteView message);
  // true: deliver `message` to sync now; false: held or dropped by the gate.
  bool on_sync(const transport::PeerId& peer, Bytes& message);
  void on_disconnected(const transport::PeerId& peer);

  // Formation-gate hook (TLS handshake): false for a revoked key when certificates are
  // required, so a revoked node is turned away before any stream opens.
  bool admits_handshake(const security::PublicKeyBytes& key) const;
  // Whether to dial `peer` now: not a revoked key (required), and not while backing off after
  // the peer refused us (5 s, doubling to 5 min; reset after 10 min without a refusal).
  bool may_dial(const transport::PeerId& peer, const security::PublicKeyBytes& key) const;

  // Signs a revocation with the enrollment authority (needs the formation seed) and publishes
  // it (store + bundle); connected peers are re-checked.
  Status revoke(const security::PublicKeyBytes& subject, std::string reason);
  Status publish_certificate(const security::MeshCertificate& cert);

  const security::CertificateBundle& bundle() const { return bundle_; }
  const CertificateGate& gate() const { return gate_; }

 private:
  void apply_decision(const GateDecision& d);
  void recheck();
  void refresh_own_certificate();
  void schedule_deadline();
  void schedule_sweep();
  std::string name(const transport::PeerId& peer) const;

  runtime::IoLoop& loop_;
  Rng& rng_;
  transport::Transport& transport_;
  store::DocumentStore* docs_;
  CertificateOptions options_;
  const security::DeviceKeypair& endpoint_;
  CertificateHooks hooks_;
  security::CertificateBundle bundle_;
  CertificateGate gate_;
  std::unique_ptr<CertificateStore> store_;
  std::unique_ptr<EnrollmentServer> server_;
  std::unique_ptr<EnrollmentListener> listener_;
  struct Backoff {
    UnixMillis until = 0;
    UnixMillis last = 0;
    UnixMillis delay = 0;
  };
  std::map<transport::PeerId, Backoff> refused_by_;
  std::set<transport::PeerId> echoed_;  // peers we re-sent our presentation to
  std::optional<TimerId> deadline_timer_;
  std::optional<TimerId> sweep_timer_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace peat::mesh
