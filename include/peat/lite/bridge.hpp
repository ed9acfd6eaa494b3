// LiteBridge: the full node's side of Peat-Lite. Listens for devices on a DatagramPort (UDP 5555),
// keeps a peer table (ANNOUNCE / HEARTBEAT / any packet refresh it, LEAVE and silence remove it),
// turns telemetry (DATA, DOCUMENT) into JSON documents for the store, answers QUERY, sends
// commands to devices and hands OTA replies to the OtaService. Runs on one EventLoop thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "peat/common/event_loop.hpp"
#include "peat/lite/protocol.hpp"
#include "peat/lite/udp_port.hpp"
#include "peat/transport/transport.hpp"

namespace peat::lite {

using transport::PeerId;  // "lite-%08X"

struct LitePeer {
  PeerId id;
  std::uint32_t node_id = 0;
  PeerAddress address;  // latest source address
  std::uint16_t capabilities = 0;
  Instant connected_at{};
  Instant last_seen{};
  std::uint32_t last_seq = 0;
  std::uint64_t message_count = 0;
};

// Sans-I/O peer table: who has been heard, from where, and who went silent.
class PeerTable {
 public:
  explicit PeerTable(Duration timeout) : timeout_(timeout) {}
  // Records a valid packet; returns true when the sender is new. ANNOUNCE sets capabilities.
  bool observe(const Header& header, const PeerAddress& from, Instant now,
               std::optional<std::uint16_t> capabilities);
  bool remove(const PeerId& id);
  // Removes and returns peers not heard for longer than the timeout.
  std::vector<PeerId> expire(Instant now);
  const LitePeer* find(const PeerId& id) const;
  std::vector<LitePeer> peers() const;
  std::size_t size() const { return peers_.size(); }
  // Healthy < 10 s since last heard, Degraded < timeout, else Dead (rtt/loss are not measured).
  std::optional<transport::ConnectionHealth> health(const PeerId& id, Instant now) const;

 private:
  Duration timeout_;
  std::map<PeerId, LitePeer> peers_;
};

struct LiteConfig {
  std::uint32_t node_id = 0;  // node_id_from_hostname(hostname) on a real node
  std::uint16_t capabilities = caps::kFull;
  // Where broadcast() goes; nullopt: broadcast only unicasts to known peers.
  std::optional<PeerAddress> broadcast_target = PeerAddress{"255.255.255.255", kDefaultPort};
  Duration peer_timeout = std::chrono::seconds(30);
  Duration sweep_interval = std::chrono::seconds(5);
  // Collections accepted from devices (empty: all). DATA has no collection on the wire and is
  // stored in `data_collection` under the device's peer id.
  std::vector<std::string> inbound_collections{"lite_sensors", "lite_events", "lite_status"};
  // Collections broadcast_document() may send (exact match).
  std::vector<std::string> outbound_collections{"beacons", "alerts"};
  std::string data_collection = "lite_sensors";
};

// How a command document is carried to a device.
enum class CommandEncoding : std::uint8_t {
  kData,      // DATA with the CRDT chosen from the JSON fields (every firmware understands it)
  kDocument,  // DOCUMENT envelope, body = JSON (peat-lite >= 0.2.5)
};

struct LiteEvents {
  std::function<void(const PeerId&, std::uint16_t capabilities)> on_peer_connected;
  std::function<void(const PeerId&, transport::DisconnectReason)> on_peer_disconnected;
  // Telemetry for the store: (collection, doc_id, JSON object text).
  std::function<void(const std::string&, const std::string&, const std::string&)> on_document;
  // A DOCUMENT tombstone: (collection, doc_id).
  std::function<void(const std::string&, const std::string&)> on_document_deleted;
  // QUERY: return the matching documents as (doc_id, JSON); each is answered with one DATA packet.
  std::function<std::vector<std::pair<std::string, std::string>>(const PeerId&,
                                                                 const QueryRequest&)>
      on_query;
};

struct LiteStats {
  std::uint64_t received = 0;
  std::uint64_t invalid_dropped = 0;  // failed decode_packet
  std::uint64_t payload_errors = 0;   // valid header, undecodable payload
  std::uint64_t filtered = 0;         // collection not in inbound_collections
  std::uint64_t sent = 0;
  std::uint64_t send_errors = 0;
  std::uint64_t queries_answered = 0;
};

class LiteBridge {
 public:
  using OtaHandler = std::function<void(const PeerId&, MessageType, ByteView payload)>;

  // `loop` and `port` must outlive the bridge (its destructor stops it, which closes the port).
  LiteBridge(EventLoop& loop, DatagramPort& port, LiteConfig config, LiteEvents events = {});
  ~LiteBridge();
  LiteBridge(const LiteBridge&) = delete;
  LiteBridge& operator=(const LiteBridge&) = delete;

  // Opens the port, starts the stale-peer sweep and announces this node (to broadcast_target).
  Status start();
  // Sends LEAVE to known peers and closes the port. Peers are forgotten (no events).
  void stop();
  bool started() const { return started_; }

  std::uint32_t node_id() const { return config_.node_id; }
  std::vector<LitePeer> peers() const { return table_.peers(); }
  std::optional<LitePeer> peer(const PeerId& id) const;
  std::optional<transport::ConnectionHealth> health(const PeerId& id) const;
  const LiteStats& stats() const { return stats_; }

  // Commands out. Errors: NOT_STARTED, PEER_NOT_FOUND, MESSAGE_TOO_LARGE (> 496-byte payload),
  // INVALID_JSON, SEND_FAILED.
  Status send_document(const PeerId& peer, const std::string& collection, const std::string& doc_id,
                       const std::string& json, CommandEncoding encoding = CommandEncoding::kData);
  // To broadcast_target and to every known peer; FILTERED when the collection is not outbound.
  Status broadcast_document(const std::string& collection, const std::string& doc_id,
                            const std::string& json,
                            CommandEncoding encoding = CommandEncoding::kData);
  // A whole encoded packet to a known peer's last address (used by OTA).
  Status send_packet(const PeerId& peer, ByteView packet);

  // OTA_ACCEPT / OTA_ACK / OTA_RESULT / OTA_ABORT from devices go here.
  void set_ota_handler(OtaHandler handler) { ota_handler_ = std::move(handler); }

  // Feeds one datagram as if received (the port's receiver calls this).
  void handle_datagram(const PeerAddress& from, ByteView datagram);

 private:
  Result<Bytes> command_packet(const std::string& collection, const std::string& doc_id,
                               const std::string& json, CommandEncoding encoding);
  Status send_to(const PeerAddress& to, ByteView packet);
  bool inbound_allowed(const std::string& collection) const;
  void schedule_sweep();
  void answer_query(const PeerId& peer, const QueryRequest& query);

  EventLoop& loop_;
  DatagramPort& port_;
  LiteConfig config_;
  LiteEvents events_;
  OtaHandler ota_handler_;
  PeerTable table_;
  LiteStats stats_;
  std::uint32_t seq_ = 0;
  bool started_ = false;
  std::optional<TimerId> sweep_timer_;
};

}  // namespace peat::lite
