#include "peat/mesh/enrollment_service.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>

#include "peat/security/os_rng.hpp"

namespace peat::mesh {

namespace {

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

transport::quic::Identity identity_of(const security::DeviceKeypair& kp) {
  transport::quic::Identity id;
  std::copy_n(kp.secret_bytes().data(), 32, id.seed.begin());
  id.public_key = kp.public_key_bytes();
  return id;
}

Bytes encode_or_empty(const security::EnrollmentResponse& r) {
  auto body = r.encode();
  return body ? std::move(body.value()) : Bytes{};
}

}  // namespace

std::vector<EnrollmentToken> parse_enrollment_tokens(std::string_view text) {
  std::vector<EnrollmentToken> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find(',', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view item = text.substr(start, end - start);
    start = end + 1;
    auto eq = item.find('=');
    EnrollmentToken t;
    t.token = trim(item.substr(0, eq));
    if (t.token.empty()) continue;
    std::optional<security::MeshTier> tier;
    if (eq != std::string_view::npos) tier = security::parse_tier(item.substr(eq + 1));
    t.tier = tier.value_or(security::MeshTier::Tactical);
    t.tier_defaulted = !tier;
    out.push_back(std::move(t));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
EnrollmentServer::EnrollmentServer(security::DeviceKeypair authority, std::string mesh_id,
                                   const std::vector<EnrollmentToken>& tokens,
                                   UnixMillis validity_ms)
    : service_(std::move(authority), std::move(mesh_id),
               security::StaticEnrollmentService::Options{validity_ms, 5ull * 60 * 1000, {}}) {
  for (const auto& t : tokens)
    service_.add_token(as_bytes(t.token), t.tier, security::permissions::kStandard);
}

Bytes EnrollmentServer::handle(const security::PublicKeyBytes& peer_key, ByteView request,
                               UnixMillis now_ms) {
  using security::EnrollmentResponse;
  if (request.size() > kMaxEnrollmentRequest) {
    return encode_or_empty(EnrollmentResponse::denied(
        "request too large: " + std::to_string(request.size()) + " bytes (max 65536)", now_ms));
  }
  auto decoded = security::EnrollmentRequest::decode(request);
  if (!decoded) {
    return encode_or_empty(
        EnrollmentResponse::denied("malformed request: " + decoded.error().message, now_ms));
  }
  // Checked before the token is looked at, so a mismatch does not use up the token.
  if (decoded->subject_public_key != peer_key) {
    return encode_or_empty(
        EnrollmentResponse::denied("subject key does not match the connection's QUIC key", now_ms));
  }
  auto response = service_.process_request(*decoded, now_ms);
  if (!response) {
    return encode_or_empty(
        EnrollmentResponse::denied("enrollment error: " + response.error().to_string(), now_ms));
  }
  if (response->status == security::EnrollmentStatus::Approved && response->certificate) {
    spdlog::info("Enrollment approved node_id={} subject={} tier={}",
                 response->certificate->node_id,
                 to_hex(ByteView(response->certificate->subject_public_key)),
                 security::tier_name(response->certificate->tier));
    if (on_issued_) on_issued_(*response->certificate);
  } else {
    spdlog::warn("Enrollment denied node_id={} subject={}: {}", decoded->node_id,
                 to_hex(ByteView(decoded->subject_public_key)), response->reason);
  }
  return encode_or_empty(*response);
}

// ---------------------------------------------------------------------------------------------
EnrollmentListener::EnrollmentListener(runtime::IoLoop& loop, Rng& rng, Config config,
                                       EnrollmentServer& server)
    : loop_(loop), server_(server) {
  transport::quic::QuicTransportConfig qc;
  qc.identity = config.identity;
  qc.bind_host = std::move(config.bind_host);
  qc.bind_port = config.port;
  qc.accept_alpns = {std::string(transport::quic::kAlpnEnroll)};
  qc.connect_alpn = std::string(transport::quic::kAlpnEnroll);
  qc.settings.max_message_size = kEnrollmentTransportLimit;
  qc.settings.idle_timeout = std::chrono::seconds(10);
  qc.settings.max_streams = 4;
  qc.admit = [this](const transport::PeerId& peer, const transport::quic::PublicKey& key,
                    std::string_view) {
    keys_[peer] = key;
    return true;
  };
  own_ = std::make_unique<transport::quic::QuicTransport>(loop_, std::move(qc), rng);
  quic_ = own_.get();
  transport::TransportEvents ev;
  ev.on_message = [this](const transport::PeerId& peer, transport::Channel channel, Bytes message) {
    if (channel == transport::Channel::kEnrollment) on_request(peer, std::move(message));
  };
  ev.on_disconnected = [this](const transport::PeerId& peer, transport::DisconnectReason,
                              const std::string&) { keys_.erase(peer); };
  own_->set_events(std::move(ev));
}

EnrollmentListener::EnrollmentListener(runtime::IoLoop& loop,
                                       transport::quic::QuicTransport& shared,
                                       EnrollmentServer& server)
    : loop_(loop), server_(server), quic_(&shared) {}

void EnrollmentListener::on_request(const transport::PeerId& peer, Bytes message) {
  auto key = keys_.find(peer);
  if (key == keys_.end()) return;
  ++requests_;
  auto response = server_.handle(key->second, message, loop_.unix_millis());
  auto sent = own_ ? quic_->send(peer, transport::Channel::kEnrollment, response)
                   : quic_->send_served(transport::quic::kAlpnEnroll, peer,
                                        transport::Channel::kEnrollment, response);
  if (!sent) spdlog::warn("enrollment answer to {} not sent: {}", peer, sent.error().to_string());
}

EnrollmentListener::~EnrollmentListener() {
  stop();
}

Status EnrollmentListener::start() {
  if (own_) return own_->start();
  transport::TransportEvents ev;
  ev.on_message = [this](const transport::PeerId& peer, transport::Channel channel, Bytes message) {
    if (channel == transport::Channel::kEnrollment) on_request(peer, std::move(message));
  };
  ev.on_disconnected = [this](const transport::PeerId& peer, transport::DisconnectReason,
                              const std::string&) { keys_.erase(peer); };
  quic_->serve(
      std::string(transport::quic::kAlpnEnroll),
      [this](const transport::PeerId& peer, const transport::quic::PublicKey& key,
             std::string_view) {
        keys_[peer] = key;
        return true;
      },
      std::move(ev));
  serving_ = true;
  return {};
}

void EnrollmentListener::stop() {
  if (own_) {
    own_->stop();
  } else if (serving_) {
    // The node's transport goes on: refuse enrollment from now on, and forget this listener.
    quic_->serve(std::string(transport::quic::kAlpnEnroll),
                 [](const transport::PeerId&, const transport::quic::PublicKey&, std::string_view) {
                   return false;
                 },
                 {});
    serving_ = false;
  }
}

std::optional<std::uint16_t> EnrollmentListener::local_port() const {
  return quic_->local_port();
}

const transport::PeerId& EnrollmentListener::peer_id() const {
  return quic_->local_peer_id();
}

// ---------------------------------------------------------------------------------------------
Result<security::MeshCertificate> enroll(const EnrollClientOptions& o) {
  if (!o.identity) return make_error("INVALID_CONFIG", "enroll: no identity key");
  if (o.server_host.empty() || o.server_port == 0 || o.server_id.empty())
    return make_error("INVALID_CONFIG", "enroll: server host, port and id are required");
  auto request = security::EnrollmentRequest::create(
      *o.identity, o.mesh_id, o.node_id, o.requested_tier, o.token, SystemClock().unix_millis());
  if (!request) return request.error();
  auto wire = request->encode();
  if (!wire) return wire.error();

  runtime::IoLoop loop;
  security::OsRng rng;
  transport::quic::QuicTransportConfig qc;
  qc.identity = identity_of(*o.identity);
  qc.bind_host = o.server_host.find(':') != std::string::npos ? "::" : "0.0.0.0";
  qc.bind_port = 0;
  qc.accept_alpns = {};
  qc.connect_alpn = std::string(transport::quic::kAlpnEnroll);
  qc.settings.max_message_size = kEnrollmentTransportLimit;
  transport::quic::QuicTransport quic(loop, std::move(qc), rng);

  std::optional<Bytes> answer;  // the response message
  std::optional<Error> failure;
  auto done = [&] { return answer.has_value() || failure.has_value(); };
  transport::TransportEvents ev;
  ev.on_connected = [&](const transport::PeerId& peer) {
    auto sent = quic.send(peer, transport::Channel::kEnrollment, *wire);
    if (!sent) failure = sent.error();
  };
  ev.on_message = [&](const transport::PeerId&, transport::Channel channel, Bytes message) {
    if (channel == transport::Channel::kEnrollment && !done()) answer = std::move(message);
  };
  ev.on_disconnected = [&](const transport::PeerId&, transport::DisconnectReason reason,
                           const std::string& detail) {
    if (done()) return;
    failure =
        make_error("TRANSPORT", std::string("connection failed: ") + transport::to_string(reason) +
                                    (detail.empty() ? "" : " (" + detail + ")"));
  };
  quic.set_events(std::move(ev));
  PEAT_TRY_STATUS(quic.start());
  quic.connect(o.server_id, {transport::PeerAddress{o.server_host, o.server_port}},
               transport::quic::kAlpnEnroll);
  loop.run_until(done, o.timeout);
  if (answer) quic.disconnect(o.server_id);
  loop.run_for(std::chrono::milliseconds(20));  // let the CONNECTION_CLOSE go out
  quic.stop();
  if (failure) return *failure;
  if (!answer)
    return make_error("TIMEOUT", "no answer from " + o.server_host + ":" +
                                     std::to_string(o.server_port) + " within " +
                                     std::to_string(o.timeout.count()) + " ms");
  auto decoded = security::EnrollmentResponse::decode(*answer);
  if (!decoded) return decoded.error();
  const security::EnrollmentResponse& response = *decoded;
  if (response.status != security::EnrollmentStatus::Approved) {
    return make_error("ENROLLMENT_DENIED",
                      std::string(security::enrollment_status_name(response.status)) +
                          (response.reason.empty() ? "" : ": " + response.reason));
  }
  const auto now = SystemClock().unix_millis();
  const auto& subject = o.identity->public_key_bytes();
  if (o.authority) {
    PEAT_TRY_STATUS(
        security::check_enrollment_response(response, subject, o.mesh_id, *o.authority, now));
  } else {
    if (!response.certificate)
      return make_error("PERMISSION_DENIED", "approved response without a certificate");
    PEAT_TRY_STATUS(security::check_enrollment_response(
        response, subject, o.mesh_id, response.certificate->issuer_public_key, now));
  }
  return *response.certificate;
}

}  // namespace peat::mesh
