#include "peat/mesh/certificate_service.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <fstream>
#include <iterator>

#include "peat/mesh/peat_mesh.hpp"
#include "peat/security/node_identity.hpp"

namespace peat::mesh {

namespace {

// How long a Refused message gets to reach the peer before the connection is closed.
constexpr std::chrono::milliseconds kRefusalGrace{200};
// Re-dial back-off after a peer refused us.
constexpr UnixMillis kBackoffFirst = 5000;
constexpr UnixMillis kBackoffMax = 300000;
constexpr UnixMillis kBackoffReset = 600000;

transport::quic::Identity identity_of(const security::DeviceKeypair& kp) {
  transport::quic::Identity id;
  std::copy_n(kp.secret_bytes().data(), 32, id.seed.begin());
  id.public_key = kp.public_key_bytes();
  return id;
}

}  // namespace

Result<CertificateOptions> certificate_options(const MeshConfig& config,
                                               const std::optional<Bytes>& formation_seed,
                                               const security::PublicKeyBytes& endpoint_key) {
  CertificateOptions o;
  o.require = config.require_certificates;
  o.mesh_id = config.mesh_id;
  o.formation_seed = formation_seed;
  if (config.authority_key) {
    auto key = security::PublicKey::from_hex(*config.authority_key);
    if (!key)
      return invalid_config_error("authority key must be 64 hex digits of an Ed25519 key: " +
                                  key.error().message);
    o.authority_key = key->bytes();
  }
  o.tokens = parse_enrollment_tokens(config.enrollment_tokens);
  if (!o.tokens.empty() && !formation_seed)
    return invalid_config_error("enrollment tokens need the formation secret (authority key)");
  o.enrollment_bind_host = config.quic_bind_host;
  o.enrollment_port = config.enrollment_port;
  if (config.certificate_file) {
    std::ifstream in(*config.certificate_file, std::ios::binary);
    if (!in)
      return invalid_config_error("certificate file " + config.certificate_file->string() +
                                  " cannot be read");
    Bytes wire((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto cert = security::MeshCertificate::decode(wire);
    if (!cert)
      return invalid_config_error("certificate file " + config.certificate_file->string() + ": " +
                                  cert.error().message);
    if (cert->subject_public_key != endpoint_key)
      return invalid_config_error("certificate file " + config.certificate_file->string() +
                                  " is for key " + to_hex(ByteView(cert->subject_public_key)) +
                                  ", not this node's QUIC key " + to_hex(ByteView(endpoint_key)));
    o.own_certificate = std::move(cert.value());
  }
  return o;
}

CertificateService::CertificateService(runtime::IoLoop& loop, Rng& rng,
                                       transport::Transport& transport, store::DocumentStore* docs,
                                       CertificateOptions options,
                                       const security::DeviceKeypair& endpoint,
                                       CertificateHooks hooks)
    : loop_(loop),
      rng_(rng),
      transport_(transport),
      docs_(docs),
      options_(std::move(options)),
      endpoint_(endpoint),
      hooks_(std::move(hooks)),
      bundle_(options_.mesh_id),
      gate_(bundle_, GateOptions{options_.require, options_.presentation_timeout_ms}) {
  std::optional<security::DeviceKeypair> authority;
  if (options_.formation_seed)
    authority = security::node_authority_keypair(*options_.formation_seed);
  if (options_.authority_key) {
    bundle_.add_authority(*options_.authority_key);
  } else if (authority) {
    // Not gating: the bundle only keeps what this node issues and stores.
    bundle_.add_authority(authority->public_key_bytes());
  }
  if (docs_) store_ = std::make_unique<CertificateStore>(*docs_, bundle_);
  if (!options_.tokens.empty() && authority) {
    server_ = std::make_unique<EnrollmentServer>(*authority, options_.mesh_id, options_.tokens);
    server_->on_issued([this](const security::MeshCertificate& cert) {
      Status st = store_ ? store_->publish_certificate(cert, loop_.unix_millis())
                         : bundle_.add_certificate(cert, loop_.unix_millis());
      if (!st) spdlog::warn("issued certificate not stored: {}", st.error().to_string());
    });
  }
  gate_.set_own_certificate(options_.own_certificate);
}

CertificateService::~CertificateService() {
  stop();
  *alive_ = false;
}

Status CertificateService::start() {
  const auto now = loop_.unix_millis();
  if (store_) {
    auto report = store_->load_all(now);
    if (!report) return report.error();
    spdlog::info(
        "Certificate store initialized certificates={} revocations={} skipped={} authorities={}",
        report->certificates, report->revocations, report->skipped, bundle_.authority_count());
    std::weak_ptr<bool> alive = alive_;
    store_->watch([this] { return loop_.unix_millis(); },
                  [this, alive](const std::string& key, CertificateStore::Applied applied) {
                    if (alive.expired()) return;
                    if (applied == CertificateStore::Applied::kRevocationAdded)
                      spdlog::warn("Certificate revocation applied: {}", key);
                    if (applied == CertificateStore::Applied::kCertificateAdded)
                      spdlog::info("Certificate added to the bundle: {}", key);
                    // The store's write lock is held here: act after it returns.
                    loop_.post([this, alive] {
                      if (alive.expired()) return;
                      refresh_own_certificate();
                      recheck();
                    });
                  });
  } else {
    spdlog::warn("certificates: no document store, the bundle is in memory only");
  }
  refresh_own_certificate();
  if (gating()) {
    spdlog::info("Layer 2 certificate gating enabled authority={} require={}",
                 to_hex(ByteView(*options_.authority_key)), options_.require);
    if (!gate_.own_certificate())
      spdlog::warn(
          "this node has no certificate for its QUIC key {}: peers that require certificates "
          "will refuse it (peat-mesh enroll, then PEAT_CERTIFICATE_FILE)",
          to_hex(ByteView(endpoint_.public_key_bytes())));
    schedule_sweep();
  }
  if (server_) {
    for (const auto& t : options_.tokens) {
      // Tokens are secrets: only a short prefix of long ones is logged.
      std::string shown = t.token.size() >= 8 ? t.token.substr(0, 2) + "…" : "(short token)";
      spdlog::info("Registered enrollment token {} tier={}{}", shown, security::tier_name(t.tier),
                   t.tier_defaulted ? " (default)" : "");
    }
    if (options_.authority_key && *options_.authority_key != server_->authority_key())
      spdlog::warn(
          "PEAT_AUTHORITY_KEY differs from this node's enrollment authority {}: the "
          "certificates it issues will not pass the gate",
          to_hex(ByteView(server_->authority_key())));
    auto* node_quic = dynamic_cast<transport::quic::QuicTransport*>(&transport_);
    if (!options_.enrollment_port && node_quic) {
      listener_ = std::make_unique<EnrollmentListener>(loop_, *node_quic, *server_);
    } else {
      EnrollmentListener::Config lc{identity_of(endpoint_), options_.enrollment_bind_host,
                                    options_.enrollment_port.value_or(0)};
      listener_ = std::make_unique<EnrollmentListener>(loop_, rng_, lc, *server_);
    }
    PEAT_TRY_STATUS(listener_->start());
    spdlog::info(
        "Enrollment ALPN (peat/enroll/1) enabled port={} server_id={} mesh_id={} "
        "authority={}",
        listener_->local_port().value_or(0), listener_->peer_id(), options_.mesh_id,
        to_hex(ByteView(server_->authority_key())));
  }
  return {};
}

void CertificateService::stop() {
  if (deadline_timer_) loop_.cancel(*deadline_timer_);
  if (sweep_timer_) loop_.cancel(*sweep_timer_);
  deadline_timer_.reset();
  sweep_timer_.reset();
  if (store_) store_->unwatch();
  if (listener_) listener_->stop();
}

std::optional<std::uint16_t> CertificateService::enrollment_port() const {
  if (!listener_) return std::nullopt;
  return listener_->local_port();
}

std::string CertificateService::name(const transport::PeerId& peer) const {
  return hooks_.name ? hooks_.name(peer) : peer;
}

void CertificateService::refresh_own_certificate() {
  if (options_.own_certificate || !store_) return;
  auto found = store_->find_certificate(endpoint_.public_key_bytes());
  if (found && *found && (!gate_.own_certificate() || **found != *gate_.own_certificate())) {
    spdlog::info("own certificate found in the store (node_id={})", (**found).node_id);
    gate_.set_own_certificate(**found);
  }
}

void CertificateService::on_connected(const transport::PeerId& peer,
                                      const security::PublicKeyBytes& key) {
  if (gate_.verdict(peer)) return;  // already known (a re-dial reports the same connection)
  auto sent = transport_.send(peer, transport::Channel::kControl, gate_.presentation());
  if (!sent)
    spdlog::warn("certificate not presented to {}: {}", name(peer), sent.error().to_string());
  apply_decision(gate_.on_connected(peer, key, loop_.unix_millis()));
  schedule_deadline();
}

bool CertificateService::on_control(const transport::PeerId& peer, ByteView message) {
  if (!is_gate_message(message)) return false;
  auto d = gate_.on_control(peer, message, loop_.unix_millis());
  // Answer the peer's first presentation with ours once more: the transport drops messages that
  // arrive before it reports the connection, which can swallow the one sent on connect.
  if (message.size() > 4 && message[4] == static_cast<std::uint8_t>(GateMessage::Type::kPresent) &&
      d.verdict != GateVerdict::kRefused && gate_.verdict(peer) && echoed_.insert(peer).second) {
    (void)transport_.send(peer, transport::Channel::kControl, gate_.presentation());
  }
  apply_decision(d);
  return true;
}

bool CertificateService::on_sync(const transport::PeerId& peer, Bytes& message) {
  switch (gate_.on_sync_message(peer, message)) {
    case CertificateGate::Inbound::kDeliver:
      return true;
    case CertificateGate::Inbound::kHeld:
      return false;
    case CertificateGate::Inbound::kDropped:
      spdlog::debug("sync message from {} dropped by the certificate gate", name(peer));
      return false;
  }
  return false;
}

void CertificateService::on_disconnected(const transport::PeerId& peer) {
  gate_.on_disconnected(peer);
  echoed_.erase(peer);
}

bool CertificateService::admits_handshake(const security::PublicKeyBytes& key) const {
  if (!gating() || !options_.require || !bundle_.is_revoked(key)) return true;
  spdlog::debug("handshake refused: key {} is revoked", to_hex(ByteView(key)));
  return false;
}

bool CertificateService::may_dial(const transport::PeerId& peer,
                                  const security::PublicKeyBytes& key) const {
  if (!gating()) return true;
  if (options_.require && bundle_.is_revoked(key)) return false;
  auto it = refused_by_.find(peer);
  return it == refused_by_.end() || loop_.unix_millis() >= it->second.until;
}

void CertificateService::apply_decision(const GateDecision& d) {
  if (!d.changed) {
    if (!d.reason.empty() && d.verdict != GateVerdict::kAdmitted)
      spdlog::debug("certificate gate {}: {}", name(d.peer), d.reason);
    return;
  }
  switch (d.verdict) {
    case GateVerdict::kPending:
      spdlog::info("peer {} connected; waiting for its certificate ({})", name(d.peer), d.reason);
      return;
    case GateVerdict::kAdmitted:
      spdlog::info("peer {} admitted: valid certificate for its QUIC key", name(d.peer));
      if (d.previous == GateVerdict::kAdmittedUnverified) return;  // already syncing
      break;
    case GateVerdict::kAdmittedUnverified:
      spdlog::warn(
          "peer {} has no valid certificate ({}); allowed because certificates are not required",
          name(d.peer), d.reason);
      break;
    case GateVerdict::kRefused: {
      const bool by_peer = d.reason.rfind("refused by peer: ", 0) == 0;
      if (by_peer) {
        const auto now = loop_.unix_millis();
        auto& b = refused_by_[d.peer];
        b.delay = (b.delay == 0 || now - b.last > kBackoffReset)
                      ? kBackoffFirst
                      : std::min(b.delay * 2, kBackoffMax);
        b.last = now;
        b.until = now + b.delay;
        spdlog::error("peer {} {}; closing the connection, not dialling it for {} s", name(d.peer),
                      d.reason, b.delay / 1000);
        transport_.disconnect(d.peer);
        return;
      }
      spdlog::error("peer {} refused: {}; closing the connection", name(d.peer), d.reason);
      std::string reason = d.reason.substr(0, kMaxRefusalReason);
      GateMessage m{GateMessage::Type::kRefused, to_bytes(reason)};
      (void)transport_.send(d.peer, transport::Channel::kControl, encode_gate_message(m));
      std::weak_ptr<bool> alive = alive_;
      transport::PeerId peer = d.peer;
      loop_.call_after(kRefusalGrace, [this, alive, peer] {
        if (!alive.expired()) transport_.disconnect(peer);
      });
      return;
    }
  }
  // Admitted (verified or not): start syncing once, then replay what arrived meanwhile.
  if (hooks_.admit) hooks_.admit(d.peer);
  for (auto& m : gate_.take_held(d.peer))
    if (hooks_.deliver) hooks_.deliver(d.peer, std::move(m));
}

void CertificateService::recheck() {
  for (const auto& d : gate_.recheck(loop_.unix_millis())) {
    // A downgrade from verified keeps the sync session: only log it.
    if (d.verdict == GateVerdict::kAdmittedUnverified) {
      spdlog::warn("peer {} no longer has a valid certificate ({}); allowed (not required)",
                   name(d.peer), d.reason);
      continue;
    }
    apply_decision(d);
  }
}

void CertificateService::schedule_deadline() {
  auto next = gate_.next_deadline();
  if (!next) return;
  if (deadline_timer_) loop_.cancel(*deadline_timer_);
  const auto now = loop_.unix_millis();
  auto delay = std::chrono::milliseconds(*next > now ? *next - now : 0);
  std::weak_ptr<bool> alive = alive_;
  deadline_timer_ = loop_.call_after(delay, [this, alive] {
    if (alive.expired()) return;
    deadline_timer_.reset();
    for (const auto& d : gate_.on_timer(loop_.unix_millis())) apply_decision(d);
    schedule_deadline();
  });
}

void CertificateService::schedule_sweep() {
  std::weak_ptr<bool> alive = alive_;
  sweep_timer_ = loop_.call_after(options_.recheck_interval, [this, alive] {
    if (alive.expired()) return;
    auto removed = bundle_.remove_expired(loop_.unix_millis());
    if (removed > 0) spdlog::info("{} expired certificate(s) removed from the bundle", removed);
    recheck();
    schedule_sweep();
  });
}

Status CertificateService::revoke(const security::PublicKeyBytes& subject, std::string reason) {
  if (!options_.formation_seed)
    return make_error("PERMISSION_DENIED", "revoking needs the authority (formation secret)");
  auto authority = security::node_authority_keypair(*options_.formation_seed);
  auto rev =
      security::Revocation::create(authority, subject, std::move(reason), loop_.unix_millis());
  if (!rev) return rev.error();
  if (store_) {
    PEAT_TRY_STATUS(store_->publish_revocation(*rev, loop_.unix_millis()));
  } else {
    PEAT_TRY_STATUS(bundle_.add_revocation(*rev));
  }
  recheck();
  return {};
}

Status CertificateService::publish_certificate(const security::MeshCertificate& cert) {
  if (store_) return store_->publish_certificate(cert, loop_.unix_millis());
  return bundle_.add_certificate(cert, loop_.unix_millis());
}

}  // namespace peat::mesh
