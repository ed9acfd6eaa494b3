// Sans-I/O QUIC connection over ngtcp2 0.12 and its GnuTLS crypto backend.
#include "peat/transport/quic/connection.hpp"

#include <arpa/inet.h>
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>
#include <ngtcp2/ngtcp2_crypto_gnutls.h>
#include <sodium.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <map>

namespace peat::transport::quic {
namespace {

// TLS 1.3 only, Ed25519 signatures, raw public keys both ways, no middlebox compat mode (QUIC).
constexpr const char* kPriority =
    "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:"
    "-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:-SIGN-ALL:+SIGN-EDDSA-ED25519:"
    "%DISABLE_TLS13_COMPAT_MODE:-CTYPE-ALL:+CTYPE-CLI-RAWPK:+CTYPE-SRV-RAWPK";

// Application error codes in CONNECTION_CLOSE and RESET_STREAM.
constexpr std::uint64_t kErrorProtocol = 0x1;
constexpr std::uint64_t kErrorMessageTooLarge = 0x2;
// Datagrams waiting to be sent; beyond this the oldest is dropped.
constexpr std::size_t kMaxQueuedDatagrams = 256;
// Each stream begins with one byte naming its channel; every message is u32 BE length ‖ bytes.
constexpr std::size_t kLengthPrefix = 4;
constexpr std::size_t kMaxVecs = 16;

ngtcp2_tstamp to_ts(Instant t) {
  return static_cast<ngtcp2_tstamp>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
}
Instant from_ts(ngtcp2_tstamp ts) {
  return Instant(std::chrono::duration_cast<Instant::duration>(std::chrono::nanoseconds(ts)));
}
ngtcp2_duration to_duration(Duration d) {
  return static_cast<ngtcp2_duration>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(d).count());
}

std::string printable(const std::uint8_t* data, std::size_t len) {
  std::string out;
  for (std::size_t i = 0; i < len && i < 200; ++i) {
    const char c = static_cast<char>(data[i]);
    out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  }
  return out;
}

std::string alert_text(std::uint8_t alert) {
  const char* name = gnutls_alert_get_name(static_cast<gnutls_alert_description_t>(alert));
  return "TLS alert " + std::to_string(alert) + " (" + (name ? name : "unknown") + ")";
}

// One frame (length u32 big-endian, message), after the stream's channel byte if `channel` is
// set (the first bytes of a stream). The message is copied once, here; the send path then hands
// these buffers to ngtcp2 as they are.
Bytes frame(ByteView message, std::optional<Channel> channel) {
  Bytes out;
  out.reserve((channel ? 1 : 0) + kLengthPrefix + message.size());
  if (channel) out.push_back(static_cast<std::uint8_t>(*channel));
  const auto n = static_cast<std::uint32_t>(message.size());
  out.push_back(static_cast<std::uint8_t>(n >> 24));
  out.push_back(static_cast<std::uint8_t>(n >> 16));
  out.push_back(static_cast<std::uint8_t>(n >> 8));
  out.push_back(static_cast<std::uint8_t>(n));
  out.insert(out.end(), message.begin(), message.end());
  return out;
}

bool is_loopback(const UdpEndpoint& e) {
  if (e.storage.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&e.storage);
    return (ntohl(a->sin_addr.s_addr) >> 24) == 127;
  }
  if (e.storage.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&e.storage);
    return IN6_IS_ADDR_LOOPBACK(&a->sin6_addr) != 0;
  }
  return false;
}

UdpEndpoint to_endpoint(const ngtcp2_path& p) {
  UdpEndpoint e;
  const auto len = std::min<std::size_t>(p.remote.addrlen, sizeof(e.storage));
  if (p.remote.addr != nullptr) std::memcpy(&e.storage, p.remote.addr, len);
  e.length = static_cast<socklen_t>(len);
  return e;
}

bool same_endpoint(const UdpEndpoint& a, const UdpEndpoint& b) {
  return a.length == b.length && std::memcmp(&a.storage, &b.storage, a.length) == 0;
}

// Large messages get their receive buffer mapped in steps of this size, ahead of the data.
constexpr std::size_t kPrefaultStep = 1 << 20;

// Maps part of a fresh receive buffer in one call (Linux >= 5.14) instead of one page fault per
// 4 KiB page as the payload arrives. Best effort: older kernels fail and fault as before.
void prefault(std::uint8_t* data, std::size_t size) {
  const auto page = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
  const auto begin = (reinterpret_cast<std::uintptr_t>(data) + page - 1) & ~(page - 1);
  const auto end = (reinterpret_cast<std::uintptr_t>(data) + size) & ~(page - 1);
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_WRITE);
}

// kClosing: we sent CONNECTION_CLOSE and answer late packets with it (RFC 9000 §10.2.1).
// kDraining: the peer closed (or reset) the connection; nothing more is sent (§10.2.2).
// Both last three PTOs, so that late packets are still recognised as this connection's; the
// application has been told at their start. kClosed: over, the state may be dropped.
enum class State : std::uint8_t { kHandshaking, kEstablished, kClosing, kDraining, kClosed };

struct OutStream {
  std::deque<Bytes> chunks;  // unacknowledged data, front chunk starts at stream offset `base`
  std::uint64_t base = 0;
  std::uint64_t written = 0;  // offset handed to ngtcp2
  std::uint64_t total = 0;    // offset of the end of the queued data
  std::uint64_t acked = 0;
  bool fin = false;  // close the stream after the queued data
  bool fin_sent = false;
  bool blocked = false;  // flow-control blocked in the current write round
};

struct InStream {
  enum class Phase : std::uint8_t { kChannel, kLength, kPayload, kDead } phase = Phase::kChannel;
  Channel channel = Channel::kSync;
  std::array<std::uint8_t, kLengthPrefix> length_bytes{};
  std::size_t length_have = 0;
  std::size_t expected = 0;
  std::size_t prefaulted = 0;  // bytes of `message`'s buffer already mapped
  Bytes message;
};

struct PendingOpen {
  std::optional<Channel> ordered_channel;  // set: the channel's ordered stream
  Channel channel = Channel::kSync;
  std::vector<Bytes> frames;  // the first starts with the channel byte
  std::uint64_t bytes = 0;
};

}  // namespace

struct Connection::Impl {
  ConnectionOptions options;
  Rng& rng;
  bool server = false;
  ngtcp2_conn* conn = nullptr;
  gnutls_session_t session = nullptr;
  ngtcp2_crypto_conn_ref conn_ref{};
  UdpEndpoint local;
  UdpEndpoint remote;
  ngtcp2_path path{};
  State state = State::kHandshaking;

  PeerId peer_id;
  PublicKey peer_key{};
  std::string alpn;
  std::string auth_failure;  // why our verify callback refused the peer
  bool refused_by_gate = false;

  std::deque<ConnectionEvent> events;
  std::vector<ConnectionEvent> early_data;
  std::map<std::int64_t, OutStream> out;
  std::deque<std::int64_t> active;  // streams with unsent data, round robin
  std::map<std::int64_t, InStream> in;
  std::array<std::int64_t, 4> channel_stream{-1, -1, -1, -1};
  std::array<bool, 4> channel_pending{};
  std::deque<PendingOpen> pending_open;
  std::deque<Bytes> datagrams;
  std::uint64_t queued = 0;
  bool want_writable = false;
  Bytes close_packet;              // our CONNECTION_CLOSE, kept for the closing period
  bool close_due = false;          // close_packet waits for write_datagrams()
  Instant period_end{};            // end of the closing or draining period
  std::uint64_t late_packets = 0;  // packets received while closing
  std::uint64_t next_answer = 1;   // answer the 1st, 2nd, 4th, 8th, ... of them
  bool stateless_reset = false;    // the peer's stateless reset ended the connection
  UdpEndpoint destination;         // of the last batch
  Bytes carry;                     // a packet for another path than its batch: sent alone next time
  UdpEndpoint carry_to;
  std::vector<Bytes> cids;
  std::uint64_t packets_sent = 0;
  std::uint64_t packets_received = 0;
  std::uint64_t packets_lost = 0;  // packets carrying stream data of closed streams, declared lost
  std::optional<std::pair<std::uint64_t, std::string>> protocol_error;
  std::vector<std::int64_t> finished_streams;  // streams whose FIN arrived
  std::vector<std::int64_t> reset_streams;     // streams the peer reset

  Impl(ConnectionOptions o, Rng& r, bool is_server, const UdpEndpoint& l, const UdpEndpoint& rem)
      : options(std::move(o)), rng(r), server(is_server), local(l), remote(rem), destination(rem) {
    path.local.addr = reinterpret_cast<ngtcp2_sockaddr*>(&local.storage);
    path.local.addrlen = local.length;
    path.remote.addr = reinterpret_cast<ngtcp2_sockaddr*>(&remote.storage);
    path.remote.addrlen = remote.length;
  }
  ~Impl() {
    if (conn) ngtcp2_conn_del(conn);
    if (session) gnutls_deinit(session);
  }

  void emit(ConnectionEvent e) { events.push_back(std::move(e)); }
  // Messages and datagrams wait for kConnected (a client confirms the handshake only when
  // HANDSHAKE_DONE arrives, which reordering can put behind the server's first data).
  void emit_data(ConnectionEvent e) {
    if (state == State::kHandshaking) {
      early_data.push_back(std::move(e));
    } else {
      emit(std::move(e));
    }
  }
  void emit_closed(DisconnectReason reason, std::string detail) {
    ConnectionEvent e;
    e.type = ConnectionEventType::kClosed;
    e.reason = reason;
    e.detail = std::move(detail);
    emit(std::move(e));
  }

  // ---- setup ----------------------------------------------------------------------------

  void fill_callbacks(ngtcp2_callbacks& cb) const {
    std::memset(&cb, 0, sizeof(cb));
    if (server) {
      cb.recv_client_initial = ngtcp2_crypto_recv_client_initial_cb;
    } else {
      cb.client_initial = ngtcp2_crypto_client_initial_cb;
      cb.recv_retry = ngtcp2_crypto_recv_retry_cb;
    }
    cb.recv_crypto_data = ngtcp2_crypto_recv_crypto_data_cb;
    cb.encrypt = ngtcp2_crypto_encrypt_cb;
    cb.decrypt = ngtcp2_crypto_decrypt_cb;
    cb.hp_mask = ngtcp2_crypto_hp_mask_cb;
    cb.update_key = ngtcp2_crypto_update_key_cb;
    cb.delete_crypto_aead_ctx = ngtcp2_crypto_delete_crypto_aead_ctx_cb;
    cb.delete_crypto_cipher_ctx = ngtcp2_crypto_delete_crypto_cipher_ctx_cb;
    cb.get_path_challenge_data = get_path_challenge_data_cb;
    cb.version_negotiation = ngtcp2_crypto_version_negotiation_cb;
    cb.rand = rand_cb;
    cb.get_new_connection_id = get_new_connection_id_cb;
    cb.remove_connection_id = remove_connection_id_cb;
    cb.handshake_completed = handshake_completed_cb;
    cb.handshake_confirmed = handshake_confirmed_cb;
    cb.recv_stream_data = recv_stream_data_cb;
    cb.acked_stream_data_offset = acked_stream_data_offset_cb;
    cb.stream_close = stream_close_cb;
    cb.stream_reset = stream_reset_cb;
    cb.extend_max_stream_data = extend_max_stream_data_cb;
    cb.recv_datagram = recv_datagram_cb;
    cb.recv_stateless_reset = recv_stateless_reset_cb;
  }

  void fill_settings(ngtcp2_settings& s, Instant now) {
    ngtcp2_settings_default(&s);
    s.initial_ts = to_ts(now);
    s.cc_algo = NGTCP2_CC_ALGO_CUBIC;
    s.max_window = options.settings.max_window;
    s.max_stream_window = options.settings.max_stream_window;
    s.handshake_timeout = to_duration(options.settings.handshake_timeout);
    s.rand_ctx.native_handle = this;
    if (options.settings.loopback_udp_payload > 0 && is_loopback(local) && is_loopback(remote)) {
      s.max_tx_udp_payload_size = options.settings.loopback_udp_payload;
      s.no_tx_udp_payload_size_shaping = 1;
    }
  }

  void fill_params(ngtcp2_transport_params& p) {
    ngtcp2_transport_params_default(&p);
    const QuicSettings& st = options.settings;
    p.initial_max_stream_data_bidi_local = st.initial_stream_window;
    p.initial_max_stream_data_bidi_remote = st.initial_stream_window;
    p.initial_max_stream_data_uni = 0;
    p.initial_max_data = st.initial_connection_window;
    p.initial_max_streams_bidi = st.max_streams;
    p.initial_max_streams_uni = 0;
    p.max_idle_timeout = to_duration(st.idle_timeout);
    p.active_connection_id_limit = 4;
    p.max_datagram_frame_size = st.datagrams ? 65535 : 0;
  }

  Status setup_tls() {
    const unsigned flags = (server ? GNUTLS_SERVER : GNUTLS_CLIENT) | GNUTLS_ENABLE_RAWPK |
                           GNUTLS_NO_END_OF_EARLY_DATA;
    if (gnutls_init(&session, flags) != 0) return make_error("QUIC_ERROR", "gnutls_init failed");
    if (gnutls_priority_set_direct(session, kPriority, nullptr) != 0) {
      return make_error("QUIC_ERROR", "TLS priority string rejected");
    }
    const int rv = server ? ngtcp2_crypto_gnutls_configure_server_session(session)
                          : ngtcp2_crypto_gnutls_configure_client_session(session);
    if (rv != 0) return make_error("QUIC_ERROR", "cannot configure the QUIC TLS session");
    conn_ref.get_conn = [](ngtcp2_crypto_conn_ref* ref) {
      return static_cast<Impl*>(ref->user_data)->conn;
    };
    conn_ref.user_data = this;
    gnutls_session_set_ptr(session, &conn_ref);
    if (gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, options.tls->credentials()) != 0) {
      return make_error("QUIC_ERROR", "cannot set TLS credentials");
    }
    std::vector<gnutls_datum_t> protos;
    for (std::string& a : options.alpns) {
      protos.push_back(
          {reinterpret_cast<unsigned char*>(a.data()), static_cast<unsigned>(a.size())});
    }
    if (protos.empty() ||
        gnutls_alpn_set_protocols(session, protos.data(), static_cast<unsigned>(protos.size()),
                                  GNUTLS_ALPN_MANDATORY) != 0) {
      return make_error("QUIC_ERROR", "no usable ALPN configured");
    }
    gnutls_session_set_verify_function(session, verify_cb);
    if (server) gnutls_certificate_server_set_request(session, GNUTLS_CERT_REQUIRE);
    return {};
  }

  // ---- TLS peer verification ---------------------------------------------------------------

  static int verify_cb(gnutls_session_t s) {
    auto* ref = static_cast<ngtcp2_crypto_conn_ref*>(gnutls_session_get_ptr(s));
    auto* self = static_cast<Impl*>(ref->user_data);
    return self->verify_peer() ? 0 : -1;
  }

  // The ALPN the server picked (known before the client's key arrives); empty if none yet.
  std::string negotiated_alpn() const {
    gnutls_datum_t selected{nullptr, 0};
    if (gnutls_alpn_get_selected_protocol(session, &selected) != 0) return {};
    return std::string(reinterpret_cast<const char*>(selected.data), selected.size);
  }

  bool verify_peer() {
    if (gnutls_certificate_type_get2(session, GNUTLS_CTYPE_PEERS) != GNUTLS_CRT_RAWPK) {
      auth_failure = "peer did not present an Ed25519 raw public key";
      return false;
    }
    unsigned count = 0;
    const gnutls_datum_t* presented = gnutls_certificate_get_peers(session, &count);
    if (!presented || count == 0) {
      auth_failure = "peer presented no key";
      return false;
    }
    gnutls_pubkey_t key = nullptr;
    gnutls_datum_t x{nullptr, 0};
    gnutls_datum_t y{nullptr, 0};
    gnutls_ecc_curve_t curve = GNUTLS_ECC_CURVE_INVALID;
    bool ok = gnutls_pubkey_init(&key) == 0 &&
              gnutls_pubkey_import(key, &presented[0], GNUTLS_X509_FMT_DER) == 0 &&
              gnutls_pubkey_export_ecc_raw2(key, &curve, &x, &y, 0) == 0 &&
              curve == GNUTLS_ECC_CURVE_ED25519 && x.size == 32;
    if (ok) std::memcpy(peer_key.data(), x.data, 32);
    gnutls_free(x.data);
    gnutls_free(y.data);
    if (key) gnutls_pubkey_deinit(key);
    if (!ok) {
      auth_failure = "peer key is not an Ed25519 public key";
      return false;
    }
    const PeerId presented_id = peer_id_from_public_key(peer_key);
    if (options.expected_public_key && *options.expected_public_key != peer_key) {
      auth_failure = "peer key " + to_hex(peer_key) + " is not the pinned key " +
                     to_hex(*options.expected_public_key);
      return false;
    }
    if (options.expected_peer && *options.expected_peer != presented_id) {
      auth_failure =
          "peer identity mismatch: expected " + *options.expected_peer + ", got " + presented_id;
      return false;
    }
    if (server && options.admit && !options.admit(presented_id, peer_key, negotiated_alpn())) {
      auth_failure = "peer " + presented_id + " refused by the admission gate";
      refused_by_gate = true;
      return false;
    }
    peer_id = presented_id;
    return true;
  }

  // ---- ngtcp2 callbacks --------------------------------------------------------------------

  static void rand_cb(std::uint8_t* dest, std::size_t len, const ngtcp2_rand_ctx* ctx) {
    static_cast<Impl*>(ctx->native_handle)->rng.fill(std::span<std::uint8_t>(dest, len));
  }

  static int get_path_challenge_data_cb(ngtcp2_conn*, std::uint8_t* data, void* user) {
    static_cast<Impl*>(user)->rng.fill(
        std::span<std::uint8_t>(data, NGTCP2_PATH_CHALLENGE_DATALEN));
    return 0;
  }

  static int get_new_connection_id_cb(ngtcp2_conn*, ngtcp2_cid* cid, std::uint8_t* token,
                                      std::size_t cidlen, void* user) {
    auto* self = static_cast<Impl*>(user);
    std::array<std::uint8_t, NGTCP2_MAX_CIDLEN> bytes{};
    self->rng.fill(std::span<std::uint8_t>(bytes.data(), cidlen));
    ngtcp2_cid_init(cid, bytes.data(), cidlen);
    self->fill_token(ByteView(bytes.data(), cidlen), token);
    self->add_cid(Bytes(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(cidlen)));
    return 0;
  }

  static int remove_connection_id_cb(ngtcp2_conn*, const ngtcp2_cid* cid, void* user) {
    auto* self = static_cast<Impl*>(user);
    Bytes id(cid->data, cid->data + cid->datalen);
    std::erase(self->cids, id);
    ConnectionEvent e;
    e.type = ConnectionEventType::kCidRetired;
    e.data = std::move(id);
    self->emit(std::move(e));
    return 0;
  }

  void fill_token(ByteView cid, std::uint8_t* token) {
    if (options.reset_key) {
      const StatelessResetToken t = stateless_reset_token(*options.reset_key, cid);
      std::memcpy(token, t.data(), t.size());
    } else {
      rng.fill(std::span<std::uint8_t>(token, NGTCP2_STATELESS_RESET_TOKENLEN));
    }
  }

  void add_cid(Bytes id) {
    cids.push_back(id);
    ConnectionEvent e;
    e.type = ConnectionEventType::kCidIssued;
    e.data = std::move(id);
    emit(std::move(e));
  }

  static int handshake_completed_cb(ngtcp2_conn*, void* user) {
    auto* self = static_cast<Impl*>(user);
    gnutls_datum_t selected{nullptr, 0};
    if (gnutls_alpn_get_selected_protocol(self->session, &selected) == 0) {
      self->alpn.assign(reinterpret_cast<const char*>(selected.data), selected.size);
    }
    if (self->peer_id.empty() || self->alpn.empty()) {
      // Cannot happen with the mandatory ALPN and required client keys; refuse rather than guess.
      return NGTCP2_ERR_CALLBACK_FAILURE;
    }
    // The client waits for HANDSHAKE_DONE: only then has the server accepted the client's key
    // (and its admission gate), so a refused client never reports a connection.
    if (self->server) self->established();
    return 0;
  }

  static int handshake_confirmed_cb(ngtcp2_conn*, void* user) {
    auto* self = static_cast<Impl*>(user);
    if (!self->server && self->state == State::kHandshaking) self->established();
    return 0;
  }

  void established() {
    state = State::kEstablished;
    ConnectionEvent e;
    e.type = ConnectionEventType::kConnected;
    emit(std::move(e));
    // Data the server sent right after its handshake may overtake HANDSHAKE_DONE.
    for (ConnectionEvent& early : early_data) emit(std::move(early));
    early_data.clear();
  }

  static int recv_stream_data_cb(ngtcp2_conn* c, std::uint32_t flags, std::int64_t stream_id,
                                 std::uint64_t, const std::uint8_t* data, std::size_t len,
                                 void* user, void*) {
    auto* self = static_cast<Impl*>(user);
    self->on_stream_data(stream_id, ByteView(data, len),
                         (flags & NGTCP2_STREAM_DATA_FLAG_FIN) != 0);
    // Everything is consumed at once (whole messages are buffered here), so give the credit back.
    ngtcp2_conn_extend_max_stream_offset(c, stream_id, len);
    ngtcp2_conn_extend_max_offset(c, len);
    return 0;
  }

  void on_stream_data(std::int64_t id, ByteView data, bool fin) {
    InStream& s = in[id];
    std::size_t pos = 0;
    while (pos < data.size() && s.phase != InStream::Phase::kDead) {
      switch (s.phase) {
        case InStream::Phase::kChannel: {
          const std::uint8_t c = data[pos++];
          if (c > static_cast<std::uint8_t>(Channel::kControl) ||
              !channel_allowed(alpn, static_cast<Channel>(c))) {
            kill_stream(id, s, kErrorProtocol,
                        "stream on a channel this connection does not carry");
            break;
          }
          s.channel = static_cast<Channel>(c);
          s.phase = InStream::Phase::kLength;
          break;
        }
        case InStream::Phase::kLength: {
          const std::size_t take = std::min(kLengthPrefix - s.length_have, data.size() - pos);
          std::memcpy(s.length_bytes.data() + s.length_have, data.data() + pos, take);
          s.length_have += take;
          pos += take;
          if (s.length_have < kLengthPrefix) break;
          s.expected = (std::size_t{s.length_bytes[0]} << 24) |
                       (std::size_t{s.length_bytes[1]} << 16) |
                       (std::size_t{s.length_bytes[2]} << 8) | std::size_t{s.length_bytes[3]};
          s.length_have = 0;
          if (s.expected > options.settings.max_message_size) {
            protocol_error = {kErrorMessageTooLarge, "message of " + std::to_string(s.expected) +
                                                         " bytes exceeds the limit"};
            s.phase = InStream::Phase::kDead;
            break;
          }
          s.message.clear();
          s.message.reserve(s.expected);
          s.prefaulted = 0;
          s.phase = InStream::Phase::kPayload;
          if (s.expected == 0) deliver(s);
          break;
        }
        case InStream::Phase::kPayload: {
          const std::size_t take = std::min(s.expected - s.message.size(), data.size() - pos);
          if (s.expected >= kPrefaultStep && s.message.size() + take > s.prefaulted) {
            // Map the buffer ahead of the data in steps: only bytes that arrive get committed.
            const std::size_t upto = std::min(s.expected, s.message.size() + take + kPrefaultStep);
            prefault(s.message.data() + s.prefaulted, upto - s.prefaulted);
            s.prefaulted = upto;
          }
          s.message.insert(s.message.end(), data.begin() + static_cast<std::ptrdiff_t>(pos),
                           data.begin() + static_cast<std::ptrdiff_t>(pos + take));
          pos += take;
          if (s.message.size() == s.expected) deliver(s);
          break;
        }
        case InStream::Phase::kDead:
          break;
      }
    }
    // A FIN inside a message leaves it undelivered.
    if (fin) finished_streams.push_back(id);
  }

  void deliver(InStream& s) {
    ConnectionEvent e;
    e.type = ConnectionEventType::kMessage;
    e.channel = s.channel;
    e.data = std::move(s.message);
    s.message = Bytes();
    s.phase = InStream::Phase::kLength;
    emit_data(std::move(e));
  }

  void kill_stream(std::int64_t id, InStream& s, std::uint64_t code, const char*) {
    s.phase = InStream::Phase::kDead;
    ngtcp2_conn_shutdown_stream_read(conn, id, code);
  }

  static int acked_stream_data_offset_cb(ngtcp2_conn*, std::int64_t stream_id, std::uint64_t offset,
                                         std::uint64_t len, void* user, void*) {
    auto* self = static_cast<Impl*>(user);
    auto it = self->out.find(stream_id);
    if (it == self->out.end()) return 0;
    OutStream& s = it->second;
    const std::uint64_t end = offset + len;
    if (end > s.acked) {
      self->release(end - s.acked);
      s.acked = end;
    }
    while (!s.chunks.empty() && s.base + s.chunks.front().size() <= s.acked) {
      s.base += s.chunks.front().size();
      s.chunks.pop_front();
    }
    return 0;
  }

  void release(std::uint64_t n) {
    queued -= std::min(queued, n);
    if (want_writable && queued <= options.settings.send_queue_limit / 2) {
      want_writable = false;
      ConnectionEvent e;
      e.type = ConnectionEventType::kWritable;
      emit(std::move(e));
    }
  }

  static int stream_close_cb(ngtcp2_conn* c, std::uint32_t, std::int64_t stream_id, std::uint64_t,
                             void* user, void*) {
    auto* self = static_cast<Impl*>(user);
    if (self->out.count(stream_id)) {
      self->packets_lost += ngtcp2_conn_get_stream_loss_count(c, stream_id);
      self->drop_stream(stream_id);
    }
    self->in.erase(stream_id);
    if (!ngtcp2_conn_is_local_stream(c, stream_id)) ngtcp2_conn_extend_max_streams_bidi(c, 1);
    return 0;
  }

  static int stream_reset_cb(ngtcp2_conn*, std::int64_t stream_id, std::uint64_t, std::uint64_t,
                             void* user, void*) {
    auto* self = static_cast<Impl*>(user);
    if (auto it = self->in.find(stream_id); it != self->in.end()) {
      it->second.phase = InStream::Phase::kDead;
      it->second.message = Bytes();
    }
    self->reset_streams.push_back(stream_id);
    return 0;
  }

  static int extend_max_stream_data_cb(ngtcp2_conn*, std::int64_t stream_id, std::uint64_t,
                                       void* user, void*) {
    auto* self = static_cast<Impl*>(user);
    if (auto it = self->out.find(stream_id); it != self->out.end()) it->second.blocked = false;
    return 0;
  }

  static int recv_datagram_cb(ngtcp2_conn*, std::uint32_t, const std::uint8_t* data,
                              std::size_t len, void* user) {
    ConnectionEvent e;
    e.type = ConnectionEventType::kDatagram;
    e.data.assign(data, data + len);
    static_cast<Impl*>(user)->emit_data(std::move(e));
    return 0;
  }

  static int recv_stateless_reset_cb(ngtcp2_conn*, const ngtcp2_pkt_stateless_reset*, void* user) {
    static_cast<Impl*>(user)->stateless_reset = true;
    return 0;
  }

  // ---- closing -----------------------------------------------------------------------------

  bool closed() const { return state >= State::kClosing; }

  // Three times the probe timeout: how long closing and draining last (RFC 9000 §10.2).
  Instant period_end_from(Instant now) const {
    return now + std::chrono::duration_cast<Duration>(
                     std::chrono::nanoseconds(3 * ngtcp2_conn_get_pto(conn)));
  }

  void enter_draining(DisconnectReason reason, std::string detail, Instant now) {
    if (closed()) return;
    state = State::kDraining;
    period_end = period_end_from(now);
    carry.clear();
    emit_closed(reason, std::move(detail));
  }

  // Writes a CONNECTION_CLOSE carrying `ccerr` and reports the end of the connection.
  void close_with(const ngtcp2_connection_close_error& ccerr, DisconnectReason reason,
                  std::string detail, Instant now) {
    if (closed()) return;
    close_packet.resize(NGTCP2_MAX_UDP_PAYLOAD_SIZE);
    ngtcp2_path_storage ps;
    ngtcp2_path_storage_zero(&ps);
    ngtcp2_pkt_info pi{};
    const ngtcp2_ssize n = ngtcp2_conn_write_connection_close(
        conn, &ps.path, &pi, close_packet.data(), close_packet.size(), &ccerr, to_ts(now));
    close_packet.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    carry.clear();  // a path probe has no use any more; the close goes out first
    if (close_packet.empty()) {
      state = State::kClosed;
    } else {
      state = State::kClosing;
      close_due = true;
      period_end = period_end_from(now);
    }
    emit_closed(reason, std::move(detail));
  }

  // Ends the connection at once, without a closing or draining period (idle timeout, a dropped
  // handshake, an unreachable peer: nobody is left to answer).
  void finish(DisconnectReason reason, std::string detail) {
    if (closed()) return;
    state = State::kClosed;
    emit_closed(reason, std::move(detail));
  }

  void fail_liberr(int err, Instant now) {
    if (err == NGTCP2_ERR_IDLE_CLOSE) {
      finish(DisconnectReason::kIdleTimeout, "no packet from the peer within the idle timeout");
      return;
    }
    if (err == NGTCP2_ERR_HANDSHAKE_TIMEOUT) {
      finish(DisconnectReason::kTimeout, "handshake timed out");
      return;
    }
    if (err == NGTCP2_ERR_DROP_CONN) {
      finish(DisconnectReason::kNetworkError, "connection dropped");
      return;
    }
    if (err == NGTCP2_ERR_DRAINING) {
      on_remote_close(now);
      return;
    }
    if (err == NGTCP2_ERR_CRYPTO) {
      on_tls_failure(now);
      return;
    }
    ngtcp2_connection_close_error ccerr;
    ngtcp2_connection_close_error_default(&ccerr);
    ngtcp2_connection_close_error_set_transport_error_liberr(&ccerr, err, nullptr, 0);
    close_with(ccerr, DisconnectReason::kNetworkError,
               std::string("QUIC error: ") + ngtcp2_strerror(err), now);
  }

  void on_tls_failure(Instant now) {
    const std::uint8_t alert = ngtcp2_conn_get_tls_alert(conn);
    ngtcp2_connection_close_error ccerr;
    ngtcp2_connection_close_error_default(&ccerr);
    std::string detail;
    if (refused_by_gate) {
      static constexpr std::string_view kReason = "not admitted";
      ngtcp2_connection_close_error_set_transport_error(
          &ccerr, NGTCP2_CONNECTION_REFUSED, reinterpret_cast<const std::uint8_t*>(kReason.data()),
          kReason.size());
      detail = auth_failure;
    } else {
      ngtcp2_connection_close_error_set_transport_error_tls_alert(&ccerr, alert, nullptr, 0);
      detail = !auth_failure.empty() ? auth_failure
               : alert == GNUTLS_A_NO_APPLICATION_PROTOCOL
                   ? "no common ALPN: " + alert_text(alert)
                   : "TLS handshake failed: " + alert_text(alert);
    }
    close_with(ccerr, DisconnectReason::kAuthenticationFailed, std::move(detail), now);
  }

  // The peer's CONNECTION_CLOSE (or stateless reset) arrived: tell the application now, then
  // drain.
  void on_remote_close(Instant now) {
    if (stateless_reset) {
      enter_draining(DisconnectReason::kNetworkError,
                     "peer reset the connection (stateless reset): it lost the connection's "
                     "state, e.g. it restarted",
                     now);
      return;
    }
    auto drain = [&](DisconnectReason r, std::string detail) {
      enter_draining(r, std::move(detail), now);
    };
    ngtcp2_connection_close_error cc;
    ngtcp2_conn_get_connection_close_error(conn, &cc);
    const std::string reason = printable(cc.reason, cc.reasonlen);
    const std::string suffix = reason.empty() ? "" : ": " + reason;
    if (cc.type == NGTCP2_CONNECTION_CLOSE_ERROR_CODE_TYPE_APPLICATION) {
      if (cc.error_code == 0) {
        drain(DisconnectReason::kRemoteClosed, "peer closed the connection" + suffix);
      } else {
        drain(DisconnectReason::kApplicationError,
              "peer closed with application error " + std::to_string(cc.error_code) + suffix);
      }
      return;
    }
    if (cc.error_code == NGTCP2_CONNECTION_REFUSED) {
      drain(DisconnectReason::kAuthenticationFailed, "refused by peer" + suffix);
    } else if (cc.error_code >= NGTCP2_CRYPTO_ERROR &&
               cc.error_code < NGTCP2_CRYPTO_ERROR + 0x100) {
      const auto alert = static_cast<std::uint8_t>(cc.error_code - NGTCP2_CRYPTO_ERROR);
      drain(DisconnectReason::kAuthenticationFailed,
            (alert == GNUTLS_A_NO_APPLICATION_PROTOCOL ? "peer accepts none of our ALPNs: "
                                                       : "peer rejected the TLS handshake: ") +
                alert_text(alert) + suffix);
    } else if (cc.error_code == NGTCP2_NO_ERROR) {
      drain(DisconnectReason::kRemoteClosed, "peer closed the connection" + suffix);
    } else {
      // The peer ended the connection over a protocol violation it saw: still a close.
      drain(DisconnectReason::kRemoteClosed,
            "peer closed with transport error " + std::to_string(cc.error_code) + suffix);
    }
  }

  void after_read(Instant now) {
    // Message streams are bidirectional, but only the opener writes. Once its FIN arrives we
    // finish our (empty) direction too, so the stream closes on both sides and its credit
    // returns. (ngtcp2 0.12 never closes a peer's unidirectional stream, which would leak
    // every unordered message's stream and run out of stream credit.)
    for (std::int64_t id : finished_streams) {
      if (!ngtcp2_conn_is_local_stream(conn, id)) queue_on(id, Bytes(), true);
    }
    finished_streams.clear();
    for (std::int64_t id : reset_streams) {
      if (!ngtcp2_conn_is_local_stream(conn, id)) ngtcp2_conn_shutdown_stream_write(conn, id, 0);
    }
    reset_streams.clear();
    if (protocol_error && !closed()) {
      auto [code, text] = *protocol_error;
      protocol_error.reset();
      ngtcp2_connection_close_error ccerr;
      ngtcp2_connection_close_error_default(&ccerr);
      ngtcp2_connection_close_error_set_application_error(
          &ccerr, code, reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
      close_with(ccerr, DisconnectReason::kApplicationError, "protocol error: " + text, now);
    }
  }

  // ---- sending -----------------------------------------------------------------------------

  void queue_on(std::int64_t id, Bytes data, bool fin) {
    OutStream& s = out[id];
    const std::uint64_t n = data.size();
    if (n > 0) s.chunks.push_back(std::move(data));
    s.total += n;
    queued += n;
    if (fin) s.fin = true;
    if (std::find(active.begin(), active.end(), id) == active.end()) active.push_back(id);
  }

  void drop_stream(std::int64_t id) {
    auto it = out.find(id);
    if (it == out.end()) return;
    release(it->second.total - it->second.acked);
    std::erase(active, id);
    for (std::int64_t& cs : channel_stream) {
      if (cs == id) cs = -1;  // the next ordered message opens a fresh stream
    }
    out.erase(it);
  }

  // Opens streams for queued messages while the peer grants stream credit.
  void open_pending() {
    while (!pending_open.empty()) {
      PendingOpen& p = pending_open.front();
      std::int64_t id = -1;
      if (ngtcp2_conn_open_bidi_stream(conn, &id, nullptr) != 0) return;
      queued -= std::min<std::uint64_t>(queued, p.bytes);  // queue_on counts it again
      if (p.ordered_channel) {
        const auto c = static_cast<std::size_t>(*p.ordered_channel);
        channel_stream[c] = id;
        channel_pending[c] = false;
      }
      for (std::size_t i = 0; i < p.frames.size(); ++i) {
        const bool last = i + 1 == p.frames.size();
        queue_on(id, std::move(p.frames[i]), last && !p.ordered_channel);
      }
      pending_open.pop_front();
    }
  }

  Status send(Channel channel, ByteView message, bool ordered) {
    if (state != State::kEstablished)
      return make_error("NOT_CONNECTED", "connection not established");
    if (!channel_allowed(alpn, channel)) {
      return make_error("CHANNEL_NOT_ALLOWED",
                        "a " + alpn + " connection does not carry this channel");
    }
    if (message.size() > options.settings.max_message_size || message.size() > 0xffffffffu) {
      return make_error("MESSAGE_TOO_LARGE", std::to_string(message.size()) + " bytes (max " +
                                                 std::to_string(options.settings.max_message_size) +
                                                 ")");
    }
    if (queued > 0 && queued + message.size() > options.settings.send_queue_limit) {
      want_writable = true;
      return make_error("WOULD_BLOCK", "send queue full");
    }
    const auto c = static_cast<std::size_t>(channel);
    if (ordered && channel_stream[c] >= 0) {
      queue_on(channel_stream[c], frame(message, std::nullopt), false);
      return {};
    }
    if (ordered && channel_pending[c]) {
      for (PendingOpen& p : pending_open) {
        if (p.ordered_channel == channel) {
          p.frames.push_back(frame(message, std::nullopt));
          p.bytes += p.frames.back().size();
          queued += p.frames.back().size();
          return {};
        }
      }
    }
    PendingOpen p;
    if (ordered) {
      p.ordered_channel = channel;
      channel_pending[c] = true;
    }
    p.channel = channel;
    p.frames.push_back(frame(message, channel));
    p.bytes = p.frames.back().size();
    queued += p.bytes;
    pending_open.push_back(std::move(p));
    open_pending();
    return {};
  }

  Status send_datagram(ByteView d) {
    if (state != State::kEstablished)
      return make_error("NOT_CONNECTED", "connection not established");
    const ngtcp2_transport_params* remote_params = ngtcp2_conn_get_remote_transport_params(conn);
    if (!options.settings.datagrams || !remote_params ||
        remote_params->max_datagram_frame_size == 0) {
      return make_error("UNSUPPORTED", "the peer does not accept QUIC datagrams");
    }
    if (d.size() > kMaxDatagramPayload || d.size() + 8 > remote_params->max_datagram_frame_size) {
      return make_error("MESSAGE_TOO_LARGE", std::to_string(d.size()) + " bytes (max " +
                                                 std::to_string(kMaxDatagramPayload) + ")");
    }
    if (datagrams.size() >= kMaxQueuedDatagrams) datagrams.pop_front();
    datagrams.emplace_back(d.begin(), d.end());
    return {};
  }

  // Next stream with unsent data that is not flow-control blocked; -1 when none.
  std::int64_t next_stream() {
    for (std::int64_t id : active) {
      const OutStream& s = out[id];
      if (!s.blocked) return id;
    }
    return -1;
  }

  std::size_t vecs_for(OutStream& s, std::array<ngtcp2_vec, kMaxVecs>& v) {
    std::size_t n = 0;
    std::uint64_t off = s.base;
    for (Bytes& chunk : s.chunks) {
      const std::uint64_t end = off + chunk.size();
      if (end > s.written) {
        const std::uint64_t skip = s.written > off ? s.written - off : 0;
        v[n].base = chunk.data() + skip;
        v[n].len = chunk.size() - skip;
        if (++n == v.size()) break;
      }
      off = end;
    }
    return n;
  }

  void account(std::int64_t id, OutStream& s, ngtcp2_ssize consumed, bool fin_flag) {
    if (consumed > 0) s.written += static_cast<std::uint64_t>(consumed);
    if (fin_flag && s.written == s.total && consumed >= 0) s.fin_sent = true;
    // Done streams leave the round robin; write_datagrams() rotates the rest once per batch.
    if (s.written == s.total && (!s.fin || s.fin_sent)) std::erase(active, id);
  }

  // Writes one packet into dest; returns its size, 0 if nothing can be sent, or a fatal error.
  // `ps` receives the packet's path.
  ngtcp2_ssize write_packet(std::uint8_t* dest, std::size_t destlen, ngtcp2_path_storage& ps,
                            ngtcp2_tstamp ts) {
    ngtcp2_pkt_info pi{};
    for (;;) {
      if (!datagrams.empty() && state == State::kEstablished) {
        int accepted = 0;
        ngtcp2_vec v{datagrams.front().data(), datagrams.front().size()};
        const ngtcp2_ssize n =
            ngtcp2_conn_writev_datagram(conn, &ps.path, &pi, dest, destlen, &accepted,
                                        NGTCP2_WRITE_DATAGRAM_FLAG_MORE, 0, &v, 1, ts);
        if (accepted) datagrams.pop_front();
        if (n == NGTCP2_ERR_WRITE_MORE) continue;
        if (n == NGTCP2_ERR_INVALID_ARGUMENT || n == NGTCP2_ERR_INVALID_STATE) {
          if (!accepted) datagrams.pop_front();
          continue;
        }
        return n;
      }
      const std::int64_t id = state == State::kEstablished ? next_stream() : -1;
      std::array<ngtcp2_vec, kMaxVecs> v{};
      std::size_t nv = 0;
      std::uint32_t flags = NGTCP2_WRITE_STREAM_FLAG_MORE;
      OutStream* s = nullptr;
      if (id >= 0) {
        s = &out[id];
        nv = vecs_for(*s, v);
        std::uint64_t pending = 0;
        for (std::size_t i = 0; i < nv; ++i) pending += v[i].len;
        if (s->fin && s->written + pending == s->total) flags |= NGTCP2_WRITE_STREAM_FLAG_FIN;
      }
      ngtcp2_ssize consumed = -1;
      const ngtcp2_ssize n = ngtcp2_conn_writev_stream(conn, &ps.path, &pi, dest, destlen,
                                                       &consumed, flags, id, v.data(), nv, ts);
      if (n == NGTCP2_ERR_WRITE_MORE) {
        account(id, *s, consumed, (flags & NGTCP2_WRITE_STREAM_FLAG_FIN) != 0);
        continue;
      }
      if (n == NGTCP2_ERR_STREAM_DATA_BLOCKED) {
        s->blocked = true;  // flow control: try the other streams
        continue;
      }
      if (n == NGTCP2_ERR_STREAM_SHUT_WR || n == NGTCP2_ERR_STREAM_NOT_FOUND) {
        drop_stream(id);  // the peer stopped it: its queued data can never be sent
        continue;
      }
      if (n >= 0 && s && consumed >= 0) {
        account(id, *s, consumed, (flags & NGTCP2_WRITE_STREAM_FLAG_FIN) != 0);
      }
      return n;
    }
  }

  std::size_t write_datagrams(std::span<std::uint8_t> buf, std::size_t& segment,
                              std::size_t max_datagrams, Instant now) {
    segment = 0;
    if (state == State::kClosing) {
      // The CONNECTION_CLOSE, once after close() and again for late packets from the peer.
      if (!close_due) return 0;
      close_due = false;
      destination = to_endpoint(*ngtcp2_conn_get_path(conn));
      const std::size_t n = std::min(buf.size(), close_packet.size());
      std::memcpy(buf.data(), close_packet.data(), n);
      segment = n;
      return n;
    }
    if (state == State::kDraining || state == State::kClosed) return 0;
    if (!carry.empty()) {
      const std::size_t n = std::min(buf.size(), carry.size());
      std::memcpy(buf.data(), carry.data(), n);
      destination = carry_to;
      carry.clear();
      segment = n;
      return n;
    }
    if (state == State::kEstablished) open_pending();
    for (auto& [id, s] : out) s.blocked = false;
    // Round robin between streams, one send batch (up to 64 KB) at a time: interleaving them
    // packet by packet costs CPU and only spreads every message's completion out.
    if (active.size() > 1) {
      active.push_back(active.front());
      active.pop_front();
    }
    const ngtcp2_tstamp ts = to_ts(now);
    // The size PMTUD validated for this path (1200 until probing succeeds), or the loopback size.
    // Until the handshake is confirmed (no Initial packets any more), packets stay at the 1200
    // bytes every path carries: ngtcp2 pads datagrams holding an Initial packet to the whole
    // buffer, which on loopback would be 65 KB.
    const std::size_t max_udp =
        state == State::kEstablished
            ? ngtcp2_conn_get_path_max_tx_udp_payload_size(conn)
            : std::min<std::size_t>(NGTCP2_MAX_UDP_PAYLOAD_SIZE,
                                    ngtcp2_conn_get_path_max_tx_udp_payload_size(conn));
    const std::size_t quantum = ngtcp2_conn_get_send_quantum(conn);
    const std::size_t limit = std::max<std::size_t>(
        1, std::min(max_datagrams, quantum / std::max<std::size_t>(max_udp, 1)));
    std::size_t total = 0;
    std::size_t count = 0;
    ngtcp2_path_storage ps;
    while (count < limit && total + max_udp <= buf.size()) {
      const std::size_t destlen = segment ? segment : max_udp;
      ngtcp2_path_storage_zero(&ps);
      const ngtcp2_ssize n = write_packet(buf.data() + total, destlen, ps, ts);
      if (n < 0) {
        fail_liberr(static_cast<int>(n), now);
        if (state == State::kClosing && total == 0) return write_datagrams(buf, segment, 1, now);
        break;
      }
      if (n == 0) break;
      const UdpEndpoint to = to_endpoint(ps.path);
      if (total == 0) {
        destination = to;
      } else if (!same_endpoint(to, destination)) {
        // Path validation writes to another path: that packet waits for the next batch.
        carry.assign(buf.data() + total, buf.data() + total + n);
        carry_to = to;
        ++packets_sent;
        break;
      }
      total += static_cast<std::size_t>(n);
      ++count;
      ++packets_sent;
      if (segment == 0) {
        segment = static_cast<std::size_t>(n);
        if (segment < max_udp) break;  // a short first packet cannot lead a GSO batch
      } else if (static_cast<std::size_t>(n) < segment) {
        break;  // a short packet ends the batch
      }
    }
    // The pacing fix: before the handshake completes the pacer would hold the client's second
    // flight for ~21 ms (initial RTT 333 ms), so pacing starts only afterwards.
    if (total > 0 && ngtcp2_conn_get_handshake_completed(conn)) {
      ngtcp2_conn_update_pkt_tx_time(conn, ts);
    }
    return total;
  }
};

Connection::Connection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Connection::~Connection() = default;

Result<std::unique_ptr<Connection>> Connection::connect(ConnectionOptions options,
                                                        const UdpEndpoint& local,
                                                        const UdpEndpoint& remote, Rng& rng,
                                                        Instant now) {
  if (!options.tls) return make_error("QUIC_ERROR", "no TLS identity");
  auto impl = std::make_unique<Impl>(std::move(options), rng, false, local, remote);
  std::array<std::uint8_t, kCidLength> d{};
  std::array<std::uint8_t, kCidLength> s{};
  rng.fill(d);
  rng.fill(s);
  ngtcp2_cid dcid;
  ngtcp2_cid scid;
  ngtcp2_cid_init(&dcid, d.data(), d.size());
  ngtcp2_cid_init(&scid, s.data(), s.size());
  ngtcp2_callbacks callbacks;
  impl->fill_callbacks(callbacks);
  ngtcp2_settings settings;
  impl->fill_settings(settings, now);
  ngtcp2_transport_params params;
  impl->fill_params(params);
  const int rv = ngtcp2_conn_client_new(&impl->conn, &dcid, &scid, &impl->path, NGTCP2_PROTO_VER_V1,
                                        &callbacks, &settings, &params, nullptr, impl.get());
  if (rv != 0) return make_error("QUIC_ERROR", std::string("client setup: ") + ngtcp2_strerror(rv));
  PEAT_TRY_STATUS(impl->setup_tls());
  ngtcp2_conn_set_tls_native_handle(impl->conn, impl->session);
  if (impl->options.settings.keep_alive.count() > 0) {
    ngtcp2_conn_set_keep_alive_timeout(impl->conn, to_duration(impl->options.settings.keep_alive));
  }
  impl->add_cid(Bytes(s.begin(), s.end()));
  return std::unique_ptr<Connection>(new Connection(std::move(impl)));
}

Result<std::unique_ptr<Connection>> Connection::accept(ConnectionOptions options,
                                                       const UdpEndpoint& local,
                                                       const UdpEndpoint& remote,
                                                       ByteView first_packet, Rng& rng,
                                                       Instant now) {
  if (!options.tls) return make_error("QUIC_ERROR", "no TLS identity");
  ngtcp2_pkt_hd hd;
  if (ngtcp2_accept(&hd, first_packet.data(), first_packet.size()) != 0) {
    return make_error("NOT_INITIAL", "not a client Initial packet");
  }
  auto impl = std::make_unique<Impl>(std::move(options), rng, true, local, remote);
  std::array<std::uint8_t, kCidLength> s{};
  rng.fill(s);
  ngtcp2_cid scid;
  ngtcp2_cid_init(&scid, s.data(), s.size());
  ngtcp2_callbacks callbacks;
  impl->fill_callbacks(callbacks);
  ngtcp2_settings settings;
  impl->fill_settings(settings, now);
  ngtcp2_transport_params params;
  impl->fill_params(params);
  params.original_dcid = hd.dcid;
  params.stateless_reset_token_present = 1;
  impl->fill_token(ByteView(s.data(), s.size()), params.stateless_reset_token);
  const int rv = ngtcp2_conn_server_new(&impl->conn, &hd.scid, &scid, &impl->path, hd.version,
                                        &callbacks, &settings, &params, nullptr, impl.get());
  if (rv != 0) return make_error("QUIC_ERROR", std::string("server setup: ") + ngtcp2_strerror(rv));
  PEAT_TRY_STATUS(impl->setup_tls());
  ngtcp2_conn_set_tls_native_handle(impl->conn, impl->session);
  if (impl->options.settings.keep_alive.count() > 0) {
    ngtcp2_conn_set_keep_alive_timeout(impl->conn, to_duration(impl->options.settings.keep_alive));
  }
  // Retransmitted Initials still carry the client's original destination id.
  impl->add_cid(Bytes(hd.dcid.data, hd.dcid.data + hd.dcid.datalen));
  impl->add_cid(Bytes(s.begin(), s.end()));
  std::unique_ptr<Connection> connection(new Connection(std::move(impl)));
  connection->receive(first_packet, now);
  return connection;
}

void Connection::receive(ByteView datagram, Instant now) {
  receive(datagram, to_endpoint(*ngtcp2_conn_get_path(impl_->conn)), now);
}

void Connection::receive(ByteView datagram, const UdpEndpoint& from, Instant now) {
  Impl& m = *impl_;
  if (m.state == State::kClosing) {
    // RFC 9000 §10.2.1: answer late packets with the CONNECTION_CLOSE again (the first may have
    // been lost), to fewer and fewer of them so a flood cannot make us send as much.
    if (++m.late_packets >= m.next_answer) {
      m.next_answer *= 2;
      m.close_due = true;
    }
    return;
  }
  if (m.state == State::kDraining || m.state == State::kClosed) return;  // §10.2.2: drop
  ngtcp2_pkt_info pi{};
  // ngtcp2 compares this path with the connection's: a new remote starts path validation.
  UdpEndpoint source = from;
  ngtcp2_path path = m.path;
  path.remote.addr = reinterpret_cast<ngtcp2_sockaddr*>(&source.storage);
  path.remote.addrlen = source.length;
  const int rv =
      ngtcp2_conn_read_pkt(m.conn, &path, &pi, datagram.data(), datagram.size(), to_ts(now));
  ++m.packets_received;
  if (rv != 0) {
    m.fail_liberr(rv, now);
    return;
  }
  m.after_read(now);
}

const UdpEndpoint& Connection::destination() const {
  return impl_->destination;
}

void Connection::set_local_address(const UdpEndpoint& local) {
  Impl& m = *impl_;
  m.local = local;
  ngtcp2_addr a;
  a.addr = reinterpret_cast<ngtcp2_sockaddr*>(&m.local.storage);
  a.addrlen = m.local.length;
  ngtcp2_conn_set_local_addr(m.conn, &a);
}

std::size_t Connection::write_datagrams(std::span<std::uint8_t> out, std::size_t& segment_size,
                                        std::size_t max_datagrams, Instant now) {
  return impl_->write_datagrams(out, segment_size, max_datagrams, now);
}

std::optional<Instant> Connection::expiry() const {
  if (impl_->state == State::kClosing || impl_->state == State::kDraining) {
    return impl_->period_end;
  }
  if (impl_->state == State::kClosed) return std::nullopt;
  const ngtcp2_tstamp t = ngtcp2_conn_get_expiry(impl_->conn);
  if (t == UINT64_MAX) return std::nullopt;
  return from_ts(t);
}

void Connection::handle_timeout(Instant now) {
  Impl& m = *impl_;
  if (m.state == State::kClosing || m.state == State::kDraining) {
    if (now >= m.period_end) m.state = State::kClosed;
    return;
  }
  if (m.state == State::kClosed) return;
  const int rv = ngtcp2_conn_handle_expiry(m.conn, to_ts(now));
  if (rv != 0) m.fail_liberr(rv, now);
}

Status Connection::send(Channel channel, ByteView message, bool ordered) {
  return impl_->send(channel, message, ordered);
}

Status Connection::send_datagram(ByteView datagram) {
  return impl_->send_datagram(datagram);
}

void Connection::close(std::uint64_t error_code, std::string_view reason, Instant now) {
  Impl& m = *impl_;
  ngtcp2_connection_close_error ccerr;
  ngtcp2_connection_close_error_default(&ccerr);
  ngtcp2_connection_close_error_set_application_error(
      &ccerr, error_code, reinterpret_cast<const std::uint8_t*>(reason.data()),
      std::min<std::size_t>(reason.size(), 200));
  m.close_with(ccerr, DisconnectReason::kLocalClosed,
               "closed locally" + (reason.empty() ? std::string() : ": " + std::string(reason)),
               now);
}

std::optional<ConnectionEvent> Connection::poll_event() {
  if (impl_->events.empty()) return std::nullopt;
  ConnectionEvent e = std::move(impl_->events.front());
  impl_->events.pop_front();
  return e;
}

bool Connection::is_server() const {
  return impl_->server;
}
bool Connection::is_established() const {
  return impl_->state == State::kEstablished;
}
bool Connection::is_closed() const {
  return impl_->closed();
}
bool Connection::is_finished() const {
  return impl_->state == State::kClosed;
}

bool Connection::receive_unrouted(ByteView datagram, Instant now) {
  Impl& m = *impl_;
  if (m.closed() || datagram.size() < NGTCP2_MIN_STATELESS_RESET_RANDLEN + 16 ||
      (datagram[0] & 0x80) != 0) {
    return false;
  }
  std::vector<ngtcp2_cid_token> dcids(ngtcp2_conn_get_num_active_dcid(m.conn));
  dcids.resize(ngtcp2_conn_get_active_dcid(m.conn, dcids.data()));
  const std::uint8_t* tail = datagram.data() + datagram.size() - NGTCP2_STATELESS_RESET_TOKENLEN;
  for (const ngtcp2_cid_token& d : dcids) {
    if (d.token_present && sodium_memcmp(d.token, tail, NGTCP2_STATELESS_RESET_TOKENLEN) == 0) {
      m.stateless_reset = true;
      m.on_remote_close(now);
      return true;
    }
  }
  return false;
}

void Connection::report_unreachable(std::string_view why) {
  impl_->finish(DisconnectReason::kNetworkError, "peer unreachable: " + std::string(why));
}
const PeerId& Connection::peer_id() const {
  return impl_->peer_id;
}
const PublicKey& Connection::peer_public_key() const {
  return impl_->peer_key;
}
const std::string& Connection::alpn() const {
  return impl_->alpn;
}
std::vector<Bytes> Connection::local_cids() const {
  return impl_->cids;
}

ConnectionStats Connection::stats() const {
  ConnectionStats out;
  const Impl& m = *impl_;
  ngtcp2_conn_stat st;
  ngtcp2_conn_get_conn_stat(m.conn, &st);
  out.smoothed_rtt = std::chrono::nanoseconds(st.smoothed_rtt);
  out.rtt_variance = std::chrono::nanoseconds(st.rttvar);
  out.min_rtt = std::chrono::nanoseconds(st.min_rtt);
  out.congestion_window = st.cwnd;
  out.bytes_in_flight = st.bytes_in_flight;
  out.pto_count = st.pto_count;
  out.packets_sent = m.packets_sent;
  out.packets_received = m.packets_received;
  out.bytes_queued = m.queued;
  out.packets_lost = m.packets_lost;
  for (const auto& [id, s] : m.out)
    out.packets_lost += ngtcp2_conn_get_stream_loss_count(m.conn, id);
  return out;
}

std::optional<Bytes> destination_cid(ByteView datagram) {
  ngtcp2_version_cid vc;
  if (datagram.empty()) return std::nullopt;
  const int rv = ngtcp2_pkt_decode_version_cid(&vc, datagram.data(), datagram.size(), kCidLength);
  if (rv != 0 && rv != NGTCP2_ERR_VERSION_NEGOTIATION) return std::nullopt;
  return Bytes(vc.dcid, vc.dcid + vc.dcidlen);
}

StatelessResetToken stateless_reset_token(const ResetKey& key, ByteView cid) {
  std::array<std::uint8_t, crypto_auth_hmacsha256_BYTES> mac{};
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, key.data(), key.size());
  crypto_auth_hmacsha256_update(&state, cid.data(), cid.size());
  crypto_auth_hmacsha256_final(&state, mac.data());
  StatelessResetToken token{};
  std::memcpy(token.data(), mac.data(), token.size());
  return token;
}

std::size_t write_stateless_reset(std::span<std::uint8_t> out, const ResetKey& key,
                                  ByteView trigger, Rng& rng) {
  // ngtcp2 takes the first byte from the random bytes too (and sets its short-header bits).
  constexpr std::size_t kMinReset = NGTCP2_MIN_STATELESS_RESET_RANDLEN + 16;
  constexpr std::size_t kMaxReset = 43;  // as long as a small packet with our 16-byte ids
  if (trigger.size() <= kMinReset || trigger.size() < 1 + kCidLength || (trigger[0] & 0x80) != 0) {
    return 0;
  }
  const std::size_t len = std::min({trigger.size() - 1, kMaxReset, out.size()});
  if (len < kMinReset) return 0;
  const StatelessResetToken token = stateless_reset_token(key, trigger.subspan(1, kCidLength));
  std::array<std::uint8_t, kMaxReset> random{};
  const std::size_t random_len = len - token.size();
  rng.fill(std::span<std::uint8_t>(random.data(), random_len));
  const ngtcp2_ssize n =
      ngtcp2_pkt_write_stateless_reset(out.data(), len, token.data(), random.data(), random_len);
  return n > 0 ? static_cast<std::size_t>(n) : 0;
}

bool is_initial_packet(ByteView datagram) {
  ngtcp2_pkt_hd hd;
  return ngtcp2_accept(&hd, datagram.data(), datagram.size()) == 0;
}

}  // namespace peat::transport::quic
