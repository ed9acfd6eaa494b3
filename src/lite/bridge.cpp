#include "peat/lite/bridge.hpp"

#include <algorithm>

#include "peat/lite/json_mapping.hpp"

namespace peat::lite {

using namespace std::chrono_literals;

bool PeerTable::observe(const Header& header, const PeerAddress& from, Instant now,
                        std::optional<std::uint16_t> capabilities) {
  auto id = peer_id_for(header.node_id);
  auto [it, inserted] = peers_.try_emplace(id);
  LitePeer& p = it->second;
  if (inserted) {
    p.id = id;
    p.node_id = header.node_id;
    p.connected_at = now;
  }
  p.address = from;
  p.last_seen = now;
  p.last_seq = header.seq_num;
  p.message_count++;
  if (capabilities) p.capabilities = *capabilities;
  return inserted;
}

bool PeerTable::remove(const PeerId& id) {
  return peers_.erase(id) > 0;
}

std::vector<PeerId> PeerTable::expire(Instant now) {
  std::vector<PeerId> gone;
  for (auto it = peers_.begin(); it != peers_.end();) {
    if (now - it->second.last_seen > timeout_) {
      gone.push_back(it->first);
      it = peers_.erase(it);
    } else {
      ++it;
    }
  }
  return gone;
}

const LitePeer* PeerTable::find(const PeerId& id) const {
  auto it = peers_.find(id);
  return it == peers_.end() ? nullptr : &it->second;
}

std::vector<LitePeer> PeerTable::peers() const {
  std::vector<LitePeer> out;
  out.reserve(peers_.size());
  for (const auto& [id, p] : peers_) out.push_back(p);
  return out;
}

std::optional<transport::ConnectionHealth> PeerTable::health(const PeerId& id, Instant now) const {
  const LitePeer* p = find(id);
  if (!p) return std::nullopt;
  transport::ConnectionHealth h;
  auto silent = now - p->last_seen;
  h.state = silent < 10s        ? transport::ConnectionState::kHealthy
            : silent < timeout_ ? transport::ConnectionState::kDegraded
                                : transport::ConnectionState::kDead;
  h.last_activity = p->last_seen;
  return h;
}

LiteBridge::LiteBridge(EventLoop& loop, DatagramPort& port, LiteConfig config, LiteEvents events)
    : loop_(loop),
      port_(port),
      config_(std::move(config)),
      events_(std::move(events)),
      table_(config_.peer_timeout) {}

LiteBridge::~LiteBridge() {
  stop();
}

Status LiteBridge::start() {
  if (started_) return {};
  PEAT_TRY_STATUS(port_.open(
      [this](const PeerAddress& from, ByteView datagram) { handle_datagram(from, datagram); }));
  started_ = true;
  schedule_sweep();
  if (config_.broadcast_target) {
    auto packet = encode_packet({MessageType::kAnnounce, 0, config_.node_id, ++seq_},
                                encode_announce(config_.capabilities));
    // Announcing is best effort: a host without a broadcast route still serves devices.
    (void)send_to(*config_.broadcast_target, *packet);
  }
  return {};
}

void LiteBridge::stop() {
  if (!started_) return;
  if (sweep_timer_) loop_.cancel(*sweep_timer_);
  sweep_timer_.reset();
  auto leave = encode_packet({MessageType::kLeave, 0, config_.node_id, ++seq_}, {});
  for (const auto& p : table_.peers()) (void)send_to(p.address, *leave);
  for (const auto& p : table_.peers()) table_.remove(p.id);
  port_.close();
  started_ = false;
}

std::optional<LitePeer> LiteBridge::peer(const PeerId& id) const {
  const LitePeer* p = table_.find(id);
  if (!p) return std::nullopt;
  return *p;
}

std::optional<transport::ConnectionHealth> LiteBridge::health(const PeerId& id) const {
  return table_.health(id, loop_.now());
}

void LiteBridge::schedule_sweep() {
  sweep_timer_ = loop_.call_after(config_.sweep_interval, [this] {
    sweep_timer_.reset();
    for (const auto& id : table_.expire(loop_.now())) {
      if (events_.on_peer_disconnected) {
        events_.on_peer_disconnected(id, transport::DisconnectReason::kTimeout);
      }
    }
    if (started_) schedule_sweep();
  });
}

bool LiteBridge::inbound_allowed(const std::string& collection) const {
  const auto& list = config_.inbound_collections;
  return list.empty() || std::find(list.begin(), list.end(), collection) != list.end();
}

Status LiteBridge::send_to(const PeerAddress& to, ByteView packet) {
  auto st = port_.send_to(to, packet);
  if (st) {
    stats_.sent++;
  } else {
    stats_.send_errors++;
  }
  return st;
}

Status LiteBridge::send_packet(const PeerId& peer, ByteView packet) {
  if (!started_) return make_error("NOT_STARTED", "Lite bridge is not started");
  const LitePeer* p = table_.find(peer);
  if (!p) return make_error("PEER_NOT_FOUND", "unknown Lite peer: " + peer);
  return send_to(p->address, packet);
}

Result<Bytes> LiteBridge::command_packet(const std::string& collection, const std::string& doc_id,
                                         const std::string& json, CommandEncoding encoding) {
  Header h{MessageType::kData, 0, config_.node_id, 0};
  Bytes payload;
  if (encoding == CommandEncoding::kData) {
    auto data = json_to_data(json, config_.node_id, loop_.unix_millis());
    if (!data) return data.error();
    auto [bytes, flags] = encode_data(*data);
    payload = std::move(bytes);
    h.flags = flags;
  } else {
    DocumentEnvelope env;
    env.collection = collection;
    env.doc_id = doc_id;
    env.timestamp_ms = static_cast<std::int64_t>(loop_.unix_millis());
    env.body = to_bytes(json);
    auto bytes = encode_document(env);
    if (!bytes) return bytes.error();
    payload = std::move(*bytes);
    h.type = MessageType::kDocument;
  }
  if (payload.size() > kMaxPayloadSize) {
    return make_error("MESSAGE_TOO_LARGE", "document needs " + std::to_string(payload.size()) +
                                               " payload bytes; a Lite packet carries 496");
  }
  h.seq_num = ++seq_;
  return encode_packet(h, payload);
}

Status LiteBridge::send_document(const PeerId& peer, const std::string& collection,
                                 const std::string& doc_id, const std::string& json,
                                 CommandEncoding encoding) {
  if (!started_) return make_error("NOT_STARTED", "Lite bridge is not started");
  if (!table_.find(peer)) return make_error("PEER_NOT_FOUND", "unknown Lite peer: " + peer);
  auto packet = command_packet(collection, doc_id, json, encoding);
  if (!packet) return packet.error();
  return send_packet(peer, *packet);
}

Status LiteBridge::broadcast_document(const std::string& collection, const std::string& doc_id,
                                      const std::string& json, CommandEncoding encoding) {
  if (!started_) return make_error("NOT_STARTED", "Lite bridge is not started");
  const auto& out = config_.outbound_collections;
  if (std::find(out.begin(), out.end(), collection) == out.end()) {
    return make_error("FILTERED", "collection is not outbound to Lite devices: " + collection);
  }
  auto packet = command_packet(collection, doc_id, json, encoding);
  if (!packet) return packet.error();
  Status result;
  if (config_.broadcast_target) {
    auto st = send_to(*config_.broadcast_target, *packet);
    if (!st) result = st;
  }
  for (const auto& p : table_.peers()) {
    auto st = send_to(p.address, *packet);
    if (!st) result = st;
  }
  return result;
}

void LiteBridge::answer_query(const PeerId& peer, const QueryRequest& query) {
  if (!events_.on_query) return;
  for (const auto& [doc_id, json] : events_.on_query(peer, query)) {
    auto packet = command_packet(query.collection, doc_id, json, CommandEncoding::kData);
    if (packet && send_packet(peer, *packet)) stats_.queries_answered++;
  }
}

void LiteBridge::handle_datagram(const PeerAddress& from, ByteView datagram) {
  if (!started_) return;
  auto packet = decode_packet(datagram);
  if (!packet) {
    stats_.invalid_dropped++;
    return;
  }
  const Header& h = packet->header;
  if (h.node_id == config_.node_id) return;  // our own broadcast echoed back
  stats_.received++;
  std::optional<std::uint16_t> capabilities;
  if (h.type == MessageType::kAnnounce) {
    auto c = decode_announce(packet->payload);
    if (c) capabilities = *c;
  }
  const PeerId id = peer_id_for(h.node_id);
  if (h.type == MessageType::kLeave) {
    if (table_.remove(id) && events_.on_peer_disconnected) {
      events_.on_peer_disconnected(id, transport::DisconnectReason::kRemoteClosed);
    }
    return;
  }
  if (table_.observe(h, from, loop_.now(), capabilities) && events_.on_peer_connected) {
    events_.on_peer_connected(id, table_.find(id)->capabilities);
  }
  switch (h.type) {
    case MessageType::kData: {
      auto data = decode_data(h.flags, packet->payload);
      auto json = data ? data_to_json(*data, h.node_id, loop_.unix_millis())
                       : Result<std::string>(data.error());
      if (!json) {
        stats_.payload_errors++;
      } else if (!inbound_allowed(config_.data_collection)) {
        stats_.filtered++;
      } else if (events_.on_document) {
        events_.on_document(config_.data_collection, id, *json);
      }
      break;
    }
    case MessageType::kDocument: {
      auto doc = decode_document(packet->payload);
      if (!doc) {
        stats_.payload_errors++;
      } else if (!inbound_allowed(doc->collection)) {
        stats_.filtered++;
      } else {
        std::string doc_id = doc->doc_id.empty() ? id : doc->doc_id;
        if (doc->tombstone()) {
          if (events_.on_document_deleted) events_.on_document_deleted(doc->collection, doc_id);
        } else if (events_.on_document) {
          events_.on_document(doc->collection, doc_id, document_to_json(*doc, h.node_id));
        }
      }
      break;
    }
    case MessageType::kQuery: {
      auto q = decode_query(packet->payload);
      if (!q) {
        stats_.payload_errors++;
      } else {
        answer_query(id, *q);
      }
      break;
    }
    case MessageType::kOtaAccept:
    case MessageType::kOtaAck:
    case MessageType::kOtaResult:
    case MessageType::kOtaAbort:
      if (ota_handler_) ota_handler_(id, h.type, packet->payload);
      break;
    default:
      break;  // ANNOUNCE / HEARTBEAT only refresh; ACK and device-bound OTA types are ignored
  }
}

}  // namespace peat::lite
