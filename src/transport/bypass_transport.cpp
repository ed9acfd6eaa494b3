#include "peat/transport/bypass_transport.hpp"

#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>
#include <map>

#include "runtime/asio.hpp"

namespace peat::transport {

namespace asio = boost::asio;
using asio::ip::udp;

struct BypassTransport::Impl {
  Impl(runtime::IoLoop& l, BypassTransportConfig c)
      : loop(l),
        config(std::move(c)),
        socket(runtime::asio_context(l)),
        encoder(config.mode, config.credentials, first_sequence()),
        decoder(config.policy),
        default_hash(bypass::collection_hash(config.default_collection)) {
    caps.type = TransportType::kUdpBypass;
    caps.reliable = false;
    caps.ordered = false;
    caps.max_message_size = config.max_message_size;
    caps.typical_latency_ms = 1;
  }

  // Sequences continue above any earlier run of this sender: seeded from the wall clock in µs.
  static std::uint64_t first_sequence() {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
  }

  struct Peer {
    udp::endpoint endpoint;
    Instant last_heard{};
  };

  void receive() {
    socket.async_receive_from(asio::buffer(buffer), from,
                              [this, alive = alive](boost::system::error_code ec, std::size_t n) {
                                if (!*alive) return;
                                if (ec == asio::error::operation_aborted || !socket.is_open())
                                  return;
                                if (!ec)
                                  on_datagram(n);
                                else
                                  ++receive_io_errors;
                                receive();
                              });
  }

  void on_datagram(std::size_t n) {
    std::string ip = from.address().to_string();
    auto msg = decoder.decode(ip, ByteView(buffer.data(), n), loop.unix_millis());
    if (!msg) return;
    BypassMessage out;
    out.source = PeerAddress{ip, from.port()};
    out.received_at = loop.now();
    if (msg->sender) {
      out.peer = to_hex(*msg->sender);
    } else {
      out.peer = "udp:" + out.source.to_string();
      for (const auto& [id, peer] : peers) {
        if (peer.endpoint == from) {
          out.peer = id;
          break;
        }
      }
    }
    auto it = peers.find(out.peer);
    if (it != peers.end()) it->second.last_heard = out.received_at;
    out.message = std::move(*msg);
    auto guard = alive;
    if (on_message) on_message(out);
    if (*guard && events.on_datagram) events.on_datagram(out.peer, out.message.payload);
  }

  Status send_to(const udp::endpoint& to, std::uint32_t hash, ByteView payload) {
    if (!socket.is_open()) return make_error("NOT_STARTED", "bypass channel not started");
    if (config.max_message_size > 0 && payload.size() > config.max_message_size) {
      ++send_errors;
      return make_error("MESSAGE_TOO_LARGE",
                        "message too large: " + std::to_string(payload.size()) + " bytes (max " +
                            std::to_string(config.max_message_size) + ")");
    }
    auto packet =
        encoder.encode(hash, bypass::clamp_ttl(config.default_ttl_ms), payload, loop.unix_millis());
    if (!packet) {
      ++send_errors;
      return packet.error();
    }
    boost::system::error_code ec;
    socket.send_to(asio::buffer(*packet), to, 0, ec);
    if (ec) {
      ++send_errors;
      return make_error("NETWORK_ERROR", ec.message());
    }
    ++messages_sent;
    bytes_sent += packet->size();
    return {};
  }

  runtime::IoLoop& loop;
  BypassTransportConfig config;
  Capabilities caps;
  TransportEvents events;
  std::function<void(const BypassMessage&)> on_message;
  udp::socket socket;
  udp::endpoint from;
  std::vector<std::uint8_t> buffer;
  bypass::Encoder encoder;
  bypass::Decoder decoder;
  std::uint32_t default_hash;
  std::map<PeerId, Peer> peers;
  std::uint64_t messages_sent = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t send_errors = 0;
  std::uint64_t receive_io_errors = 0;
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);
};

BypassTransport::BypassTransport(runtime::IoLoop& loop, BypassTransportConfig config)
    : impl_(std::make_unique<Impl>(loop, std::move(config))) {}

BypassTransport::~BypassTransport() {
  *impl_->alive = false;
  boost::system::error_code ec;
  impl_->socket.close(ec);
}

const Capabilities& BypassTransport::capabilities() const {
  return impl_->caps;
}

void BypassTransport::set_events(TransportEvents events) {
  impl_->events = std::move(events);
}

void BypassTransport::set_on_bypass_message(std::function<void(const BypassMessage&)> handler) {
  impl_->on_message = std::move(handler);
}

Status BypassTransport::start() {
  if (impl_->socket.is_open()) return {};
  boost::system::error_code ec;
  auto address = asio::ip::make_address(impl_->config.bind_address, ec);
  if (ec) return make_error("INVALID_ADDRESS", impl_->config.bind_address);
  udp::endpoint local(address, impl_->config.port);
  impl_->socket.open(local.protocol(), ec);
  if (!ec) impl_->socket.bind(local, ec);
  if (ec) {
    impl_->socket.close(ec);
    return make_error("BIND_FAILED", local.address().to_string() + ":" +
                                         std::to_string(local.port()) + ": " + ec.message());
  }
  impl_->buffer.assign(std::max<std::size_t>(impl_->config.recv_buffer, 64), 0);
  impl_->receive();
  return {};
}

void BypassTransport::stop() {
  boost::system::error_code ec;
  impl_->socket.close(ec);
  auto peers = std::move(impl_->peers);
  impl_->peers.clear();
  for (const auto& [id, peer] : peers) {
    if (impl_->events.on_disconnected) {
      impl_->events.on_disconnected(id, DisconnectReason::kLocalClosed, "");
    }
  }
}

void BypassTransport::connect(const PeerId& peer, const std::vector<PeerAddress>& addresses) {
  auto alive = impl_->alive;
  auto report = [this, alive, peer](bool ok, std::string detail) {
    asio::post(runtime::asio_context(impl_->loop), [this, alive, peer, ok, detail] {
      if (!*alive) return;
      if (ok && impl_->events.on_connected) impl_->events.on_connected(peer);
      if (!ok && impl_->events.on_disconnected) {
        impl_->events.on_disconnected(peer, DisconnectReason::kNetworkError, detail);
      }
    });
  };
  if (addresses.empty()) return report(false, "no address");
  boost::system::error_code ec;
  auto ip = asio::ip::make_address(addresses.front().host, ec);
  if (ec) return report(false, "not an IP address: " + addresses.front().host);
  impl_->peers[peer] = Impl::Peer{udp::endpoint(ip, addresses.front().port), impl_->loop.now()};
  report(true, "");
}

void BypassTransport::disconnect(const PeerId& peer) {
  if (impl_->peers.erase(peer) > 0 && impl_->events.on_disconnected) {
    impl_->events.on_disconnected(peer, DisconnectReason::kLocalClosed, "");
  }
}

bool BypassTransport::is_connected(const PeerId& peer) const {
  return impl_->peers.contains(peer);
}

std::vector<PeerId> BypassTransport::connected_peers() const {
  std::vector<PeerId> out;
  for (const auto& [id, peer] : impl_->peers) out.push_back(id);
  return out;
}

Status BypassTransport::send(const PeerId&, Channel, ByteView) {
  return make_error("UNSUPPORTED", "the UDP bypass transport has no reliable channels");
}

Status BypassTransport::send_datagram(const PeerId& peer, ByteView datagram) {
  auto it = impl_->peers.find(peer);
  if (it == impl_->peers.end()) return make_error("NOT_CONNECTED", "unknown peer " + peer);
  return impl_->send_to(it->second.endpoint, impl_->default_hash, datagram);
}

Status BypassTransport::send_to_collection(const PeerId& peer, std::string_view collection,
                                           ByteView payload) {
  auto it = impl_->peers.find(peer);
  if (it == impl_->peers.end()) return make_error("NOT_CONNECTED", "unknown peer " + peer);
  return impl_->send_to(it->second.endpoint, bypass::collection_hash(collection), payload);
}

Status BypassTransport::send_to_address(const PeerAddress& to, std::string_view collection,
                                        ByteView payload) {
  boost::system::error_code ec;
  auto ip = asio::ip::make_address(to.host, ec);
  if (ec) return make_error("INVALID_ADDRESS", to.host);
  return impl_->send_to(udp::endpoint(ip, to.port), bypass::collection_hash(collection), payload);
}

std::optional<ConnectionHealth> BypassTransport::health(const PeerId& peer) const {
  auto it = impl_->peers.find(peer);
  if (it == impl_->peers.end()) return std::nullopt;
  ConnectionHealth h;
  h.last_activity = it->second.last_heard;
  return h;
}

std::uint16_t BypassTransport::local_port() const {
  boost::system::error_code ec;
  auto local = impl_->socket.local_endpoint(ec);
  return ec ? 0 : local.port();
}

bypass::Metrics BypassTransport::metrics() const {
  bypass::Metrics m = impl_->decoder.metrics();
  m.messages_sent = impl_->messages_sent;
  m.bytes_sent = impl_->bytes_sent;
  m.send_errors = impl_->send_errors;
  m.receive_errors += impl_->receive_io_errors;
  return m;
}

}  // namespace peat::transport
