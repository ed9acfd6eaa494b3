#include "peat/mesh/peat_mesh.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "mesh_backend.hpp"
#ifdef PEAT_MESH_BLOBS
#include "peat/blob/blob_service.hpp"
#include "peat/blob/blob_store.hpp"
#endif
#include "peat/broker/server.hpp"
#include "peat/discovery/mdns_discovery.hpp"
#include "peat/discovery/static_discovery.hpp"
#include "peat/mesh/certificate_service.hpp"
#include "peat/mesh/hierarchy.hpp"
#ifdef PEAT_MESH_QOS
#include "peat/qos/storage_guard.hpp"
#include "peat/sync/sync_policy.hpp"
#endif
#ifdef PEAT_MESH_LITE
#include "peat/lite/bridge.hpp"
#include "peat/lite/ota.hpp"
#include "peat/lite/udp_port.hpp"
#endif
#ifdef PEAT_MESH_KUBERNETES
#include "peat/discovery/kubernetes_discovery.hpp"
#endif
#include "peat/runtime/io_loop.hpp"
#include "peat/security/keypair.hpp"
#include "peat/security/node_identity.hpp"
#include "peat/security/os_rng.hpp"
#include "peat/store/document_store.hpp"
#ifdef PEAT_MESH_SYNC
#include "peat/sync/sync_engine.hpp"
#endif
#include "peat/transport/quic/quic_transport.hpp"

namespace peat::mesh {

using nlohmann::json;

Error not_running_error() {
  return make_error("NOT_RUNNING", "mesh is not running");
}
Error already_running_error() {
  return make_error("ALREADY_RUNNING", "mesh is already running");
}
Error invalid_config_error(const std::string& message) {
  return make_error("INVALID_CONFIG", "invalid configuration: " + message);
}

namespace {

std::string uuid_v4(Rng& rng) {
  std::array<std::uint8_t, 16> b{};
  rng.fill(b);
  b[6] = static_cast<std::uint8_t>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<std::uint8_t>((b[8] & 0x3f) | 0x80);
  std::string hex = to_hex(ByteView(b.data(), b.size()));
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

const char* health_text(transport::ConnectionState s) {
  switch (s) {
    case transport::ConnectionState::kHealthy:
      return "healthy";
    case transport::ConnectionState::kDegraded:
      return "degraded";
    case transport::ConnectionState::kSuspect:
      return "suspect";
    case transport::ConnectionState::kDead:
      return "dead";
  }
  return "unknown";
}

Result<store::QueryValue> query_value(const json& v) {
  if (v.is_null()) return store::QueryValue(doc::Null{});
  if (v.is_boolean()) return store::QueryValue(v.get<bool>());
  if (v.is_number_unsigned()) {
    auto u = v.get<std::uint64_t>();
    if (u <= static_cast<std::uint64_t>(INT64_MAX))
      return store::QueryValue(static_cast<std::int64_t>(u));
    return store::QueryValue(u);
  }
  if (v.is_number_integer()) return store::QueryValue(v.get<std::int64_t>());
  if (v.is_number_float()) return store::QueryValue(v.get<double>());
  if (v.is_string()) return store::QueryValue(v.get<std::string>());
  return make_error("BAD_REQUEST", "query values must be null, bool, number or string");
}

Result<store::Query> parse_query(const std::string& collection, std::string_view text) {
  auto q = json::parse(text, nullptr, false);
  if (q.is_discarded() || !q.is_object())
    return make_error("BAD_REQUEST", "query must be a JSON object");
  store::Query query(collection);
  if (q.contains("where")) {
    if (!q["where"].is_array()) return make_error("BAD_REQUEST", "'where' must be an array");
    for (const auto& w : q["where"]) {
      if (!w.is_object() || !w.contains("field") || !w["field"].is_string() || !w.contains("op") ||
          !w["op"].is_string() || !w.contains("value")) {
        return make_error("BAD_REQUEST", "each 'where' entry needs field, op and value");
      }
      auto value = query_value(w["value"]);
      if (!value) return value.error();
      auto field = w["field"].get<std::string>();
      auto op = w["op"].get<std::string>();
      if (op == "eq") {
        query.where_eq(field, *value);
      } else if (op == "gt") {
        query.where_gt(field, *value);
      } else if (op == "lt") {
        query.where_lt(field, *value);
      } else if (op == "gte") {
        query.where_gte(field, *value);
      } else if (op == "lte") {
        query.where_lte(field, *value);
      } else if (op == "contains") {
        query.where_contains(field, *value);
      } else {
        return make_error("BAD_REQUEST", "unknown query op '" + op + "'");
      }
    }
  }
  if (q.contains("order_by")) {
    if (!q["order_by"].is_string()) return make_error("BAD_REQUEST", "'order_by' is a field");
    bool desc = q.value("desc", false);
    query.order_by(q["order_by"].get<std::string>(),
                   desc ? store::SortOrder::kDesc : store::SortOrder::kAsc);
  }
  for (const char* key : {"offset", "limit"}) {
    if (!q.contains(key)) continue;
    if (!q[key].is_number_unsigned())
      return make_error("BAD_REQUEST", std::string("'") + key + "' must be a count");
    auto n = q[key].get<std::size_t>();
    if (std::string(key) == "offset") {
      query.offset(n);
    } else {
      query.limit(n);
    }
  }
  return query;
}

std::string with_id(json doc, const std::string& id) {
  if (doc.is_object()) doc["_id"] = id;
  return doc.dump();
}

// A soft delete marks the document `_deleted: true`; that edit syncs to peers, whose store
// metadata does not know it was a delete, so the mark itself decides.
bool marked_deleted(const json& doc) {
  auto it = doc.find("_deleted");
  return it != doc.end() && it->is_boolean() && it->get<bool>();
}

Error no_blob_store_error() {
  return make_error("NO_STORE", "this mesh has no blob store (no data dir, or blobs not built)");
}

#ifdef PEAT_MESH_BLOBS
blob::TransferProfile blob_profile(const std::string& name) {
  if (name == "datacenter") return blob::TransferProfile::datacenter();
  if (name == "edge") return blob::TransferProfile::edge();
  return blob::TransferProfile::tactical();
}

BlobInfo blob_info(const blob::BlobToken& t) {
  return {blob::hash_to_hex(t.hash), t.size, t.metadata.name, t.metadata.content_type};
}
#endif

bool valid_name(const std::string& s) {
  return !s.empty() && s.size() <= 256 && s.find(':') == std::string::npos &&
         s.find('/') == std::string::npos;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
struct KnownPeer {
  std::string node_id;
  transport::PeerId peer_id;
  transport::quic::PublicKey public_key{};
  std::vector<transport::PeerAddress> addresses;
  bool connected = false;
  bool dialing = false;
  int ticks_unconnected = 0;
  // Hierarchy: whether the peer's parent announcement arrived on this connection, and whom
  // it named.
  bool announced = false;
  std::optional<std::string> announced_parent;
};

struct PeatMesh::Impl : std::enable_shared_from_this<PeatMesh::Impl> {
  MeshConfig config;
  std::string node_id;
  security::DeviceKeypair device;
  std::optional<Bytes> formation_seed;  // decoded formation secret
  std::optional<security::DeviceKeypair> endpoint;
  security::OsRng rng;
  MeshBackend backend{*this};

  // state_mu → subscribers_mu.
  mutable std::mutex state_mu;
  MeshState state = MeshState::kCreated;
  std::optional<Instant> started_at;
  std::uint16_t quic_port = 0;
  std::uint16_t broker_port = 0;
  std::uint16_t lite_port = 0;

  mutable std::mutex subscribers_mu;
  std::map<std::uint64_t, EventCallback> subscribers;
  std::uint64_t next_subscriber = 1;

  // Network thread and what it owns (touched only there once started).
  std::unique_ptr<runtime::IoLoop> loop;
  std::thread thread;
  std::atomic<std::thread::id> loop_thread{};
  std::unique_ptr<store::DocumentStore> docs;
  store::Subscription doc_subscription;
  std::unique_ptr<transport::quic::QuicTransport> quic;
#ifdef PEAT_MESH_SYNC
  std::unique_ptr<sync::SyncEngine> syncer;
#endif
  std::unique_ptr<discovery::DiscoveryStrategy> disco;
  std::shared_ptr<discovery::EventStream> disco_events;
  std::unique_ptr<broker::BrokerServer> broker;
#ifdef PEAT_MESH_BLOBS
  // The store is also used on callers' threads (imports); state_mu guards the pointer.
  std::shared_ptr<blob::BlobStore> blob_store;
  std::unique_ptr<blob::BlobService> blob_service;
  struct BlobFetchRecord {
    BlobStatus status;
    std::optional<blob::FetchId> id;
  };
  std::map<std::string, BlobFetchRecord> blob_fetches;  // by hash hex
#endif
#ifdef PEAT_MESH_LITE
  // Destroyed in reverse: the OTA service, the bridge, then its UDP port.
  std::unique_ptr<lite::DatagramPort> lite_udp;
  std::unique_ptr<lite::LiteBridge> lite_bridge;
  std::unique_ptr<lite::OtaService> ota;
#endif
  // Certificate store, Layer-2 gate and enrollment endpoint (docs/certificates.md); none when
  // neither an authority key nor enrollment tokens are configured.
  std::unique_ptr<CertificateService> certs;
#ifdef PEAT_MESH_QOS
  std::unique_ptr<qos::StorageGuard> storage_guard;
#endif
  std::map<std::string, KnownPeer> known;  // by node id
  // The hierarchy view last applied (node ids): parent connected, children, whether any.
  HierarchyView hierarchy;
  std::optional<TimerId> tick_timer;
  bool ticking = false;
  std::string deleting_key;  // key being deleted by delete_local
  std::uint64_t documents_written = 0;
  UnixMillis last_gc = 0;  // loop time of the last garbage collection
  std::uint64_t peers_joined = 0;
  std::uint64_t peers_left = 0;

  Impl(MeshConfig c, std::string id, security::DeviceKeypair d)
      : config(std::move(c)), node_id(std::move(id)), device(std::move(d)) {}

  bool on_loop() const {
    return loop && std::this_thread::get_id() == loop_thread.load();
  }

  MeshState current_state() const {
    std::lock_guard lock(state_mu);
    return state;
  }

  // Runs fn on the network thread and waits for its result (inline when already there).
  template <typename T>
  Result<T> on_network(std::function<Result<T>()> fn) {
    if (on_loop()) return fn();
    if (current_state() != MeshState::kRunning || !loop) return not_running_error();
    auto promise = std::make_shared<std::promise<Result<T>>>();
    auto future = promise->get_future();
    loop->post([promise, fn = std::move(fn)] { promise->set_value(fn()); });
    if (future.wait_for(config.operation_timeout) != std::future_status::ready) {
      return make_error("TIMEOUT", "the network thread did not answer within " +
                                       std::to_string(config.operation_timeout.count()) + " ms");
    }
    return future.get();
  }

  void emit(const MeshEvent& event) {
    std::vector<EventCallback> callbacks;
    {
      std::lock_guard lock(subscribers_mu);
      for (const auto& [id, cb] : subscribers) callbacks.push_back(cb);
    }
    for (const auto& cb : callbacks) cb(event);
    if (broker) broker->publish(to_json(event));
  }

  void set_state(MeshState s) {
    {
      std::lock_guard lock(state_mu);
      state = s;
      if (s == MeshState::kRunning) started_at = std::chrono::steady_clock::now();
      if (s == MeshState::kStopped) started_at.reset();
    }
    emit(StateChanged{s});
  }

  std::size_t connected_count() const {
    std::size_t n = 0;
    for (const auto& [id, p] : known) n += p.connected ? 1 : 0;
    return n;
  }

  std::string role() const {
    if (hierarchy.active) {
      if (!config.parent) return "root";
      return hierarchy.children.empty() ? "leaf" : "member";
    }
    return connected_count() == 0 ? "standalone" : "peer";
  }

  // ---- hierarchy (docs/node.md "Hierarchy") -----------------------------------------------
  void announce_parent(const transport::PeerId& peer, bool reply_requested) {
    if (!quic) return;
    auto sent = quic->send(peer, transport::Channel::kControl,
                           encode_parent_announcement({config.parent, reply_requested}));
    if (!sent) {
      auto* p = by_peer_id(peer);
      spdlog::debug("parent announcement to {} not sent: {}", p ? p->node_id : peer,
                    sent.error().to_string());
    }
  }

  void on_parent_announcement(const transport::PeerId& peer, ByteView message) {
    auto* p = by_peer_id(peer);
    if (!p || !p->connected) return;  // not admitted yet: its next announcement counts
    auto a = decode_parent_announcement(message);
    if (!a) {
      spdlog::warn("control message from {} rejected: {}", p->node_id, a.error().to_string());
      return;
    }
    if (a->reply_requested) announce_parent(peer, false);
    if (!p->announced || p->announced_parent != a->parent) {
      spdlog::debug("peer {} announced parent {}", p->node_id, a->parent.value_or("(none)"));
    }
    p->announced = true;
    p->announced_parent = a->parent;
    update_hierarchy();
  }

  // Recomputes parent and children from the connected peers and gives the sync engine the
  // view when it changed. Without a configured parent and without children: flat (no view).
  void update_hierarchy() {
    if (!ticking) return;  // shutting down: the view is dropped with the connections
    HierarchyView next;
    next.parent = config.parent;
    std::optional<transport::PeerId> parent_peer;
    std::set<transport::PeerId> child_peers;
    for (const auto& [id, p] : known) {
      if (!p.connected) continue;
      if (config.parent && id == *config.parent) {
        next.parent_connected = true;
        parent_peer = p.peer_id;
      } else if (p.announced && p.announced_parent == node_id) {
        next.children.push_back(id);
        child_peers.insert(p.peer_id);
      }
    }
    next.active = config.parent.has_value() || !next.children.empty();
    const bool changed = next.active != hierarchy.active ||
                         next.parent_connected != hierarchy.parent_connected ||
                         next.children != hierarchy.children;
    hierarchy = next;
    hierarchy.role = role();
    if (!changed) return;
#ifdef PEAT_MESH_SYNC
    if (syncer) {
      std::optional<sync::SyncTopology> view;
      if (next.active) view = sync::SyncTopology{parent_peer, child_peers};
      syncer->set_topology(std::move(view));
    }
#endif
    std::string children;
    for (const auto& c : hierarchy.children) children += (children.empty() ? "" : ",") + c;
    spdlog::info("hierarchy role={} parent={}{} children=[{}]", hierarchy.role,
                 config.parent.value_or("-"),
                 config.parent && !hierarchy.parent_connected ? " (not connected)" : "", children);
    emit(TopologyChanged{role(), connected_count()});
  }

  KnownPeer* by_peer_id(const transport::PeerId& peer) {
    for (auto& [id, p] : known)
      if (p.peer_id == peer) return &p;
    return nullptr;
  }

  // ---- startup / shutdown (network thread) ------------------------------------------------
  Status open_store() {
    auto dir = config.store_dir();
    if (!dir) return {};
    std::error_code ec;
    std::filesystem::create_directories(*dir / "automerge", ec);
    if (ec)
      return make_error("IO_ERROR",
                        "cannot create " + (*dir / "automerge").string() + ": " + ec.message());
    const auto device_id = device.device_id();
    const auto& raw = device_id.bytes();
    doc::ActorId actor(raw.begin(), raw.end());
    store::DocStoreOptions options;
    if (config.ttl_preset == "tactical") {
      options.ttl = store::TtlConfig::tactical();
    } else if (config.ttl_preset == "long_duration") {
      options.ttl = store::TtlConfig::long_duration();
    } else if (config.ttl_preset == "offline_node") {
      options.ttl = store::TtlConfig::offline_node();
    }
    auto opened = store::DocumentStore::open((*dir / "automerge").string(), actor, options);
    if (!opened) return opened.error();
    docs = std::move(opened.value());
    doc_subscription = docs->base().subscribe("", [this](const store::ChangeEvent& ev) {
      if (ev.kind == store::ChangeKind::kPut && ev.key == deleting_key) return;
      auto split = store::DocStore::split_key(ev.key);
      if (!split) return;
      DocumentAction action = DocumentAction::kPut;
      if (ev.kind == store::ChangeKind::kDeleted || ev.kind == store::ChangeKind::kSoftDeleted)
        action = DocumentAction::kDeleted;
      if (ev.kind == store::ChangeKind::kExpired) action = DocumentAction::kExpired;
      emit(DocumentChanged{split->first, split->second, action, ev.from_peer});
    });
    return {};
  }

  // QoS retention and eviction of the store (docs/qos.md), when a storage budget is set. The
  // classes come from the same per-collection table the sync engine uses.
  Status start_storage_guard() {
    if (!docs || config.storage_max_bytes == 0) return {};
#ifdef PEAT_MESH_QOS
    qos::EvictionConfig eviction = qos::EvictionConfig::defaults();
    eviction.max_cycle_duration_ms = 200;  // one slice; a cut-short cycle continues in 100 ms
    qos::StorageGuardOptions options;
    options.interval = config.storage_check_interval;
    options.apply_lifecycle = config.storage_lifecycle;
    options.node_id = node_id;
    sync::SyncPolicyRegistry policies;
    storage_guard = std::make_unique<qos::StorageGuard>(
        *docs, *loop, [policies](std::string_view c) { return policies.qos(c); },
        config.storage_max_bytes, eviction, std::move(options));
    PEAT_TRY_STATUS(storage_guard->start());
    spdlog::info("QoS storage guard started max_bytes={} lifecycle={}", config.storage_max_bytes,
                 config.storage_lifecycle);
#else
    spdlog::warn("storage budget set but this build has no QoS module: nothing is evicted");
#endif
    return {};
  }

  Status open_blobs() {
#ifdef PEAT_MESH_BLOBS
    auto dir = config.store_dir();
    if (!dir) return {};
    auto opened = blob::BlobStore::open(*dir / "blobs");
    if (!opened) return opened.error();
    std::lock_guard lock(state_mu);
    blob_store = std::make_shared<blob::BlobStore>(std::move(opened.value()));
#endif
    return {};
  }

  Status start_network() {
    if (!formation_seed) return {};
    transport::quic::QuicTransportConfig qc;
    std::copy_n(endpoint->secret_bytes().data(), 32, qc.identity.seed.begin());
    qc.identity.public_key = endpoint->public_key_bytes();
    qc.bind_host = config.quic_bind_host;
    qc.bind_port = config.quic_port;
    if (config.iroh.bind_addr) {
      auto addr = discovery::parse_socket_address(*config.iroh.bind_addr);
      if (addr) {
        qc.bind_host = addr->host;
        qc.bind_port = addr->port;
      }
    }
    // Formation gate: only keys derived from the formation secret for a node we know of.
    // Enrollment connections are decided by the enrollment endpoint when it is served on this
    // transport (QuicTransport::serve); without it they are refused, never taken as member links.
    qc.admit = [this](const transport::PeerId& peer, const transport::quic::PublicKey& pk,
                      std::string_view alpn) {
      if (alpn == transport::quic::kAlpnEnroll) {
        spdlog::warn("refused peer {}: this node does not serve enrollment", peer);
        return false;
      }
      for (const auto& [id, p] : known) {
        if (p.peer_id == peer && p.public_key == pk) return !certs || certs->admits_handshake(pk);
      }
      spdlog::warn("refused peer {}: not a known member of this formation", peer);
      return false;
    };
    quic = std::make_unique<transport::quic::QuicTransport>(*loop, std::move(qc), rng);
#ifdef PEAT_MESH_BLOBS
    // Blobs travel on the member links (the sync ALPN carries Channel::kBlobs).
    if (blob_store) {
      blob::BlobServiceConfig bc;
      bc.profile = blob_profile(config.blob_profile);
      blob_service = std::make_unique<blob::BlobService>(*loop, *quic, *blob_store, bc);
      spdlog::info("blob service ready dir={} profile={} chunk_size={}", blob_store->dir().string(),
                   config.blob_profile, bc.profile.chunk_size);
    }
#endif
    transport::TransportEvents events;
    events.on_connected = [this](const transport::PeerId& peer) { on_connected(peer); };
    events.on_disconnected = [this](const transport::PeerId& peer,
                                    transport::DisconnectReason reason, const std::string& detail) {
      on_disconnected(peer, reason, detail);
    };
    events.on_message = [this](const transport::PeerId& peer, transport::Channel channel,
                               Bytes message) {
      if (certs && certs->gating()) {
        // Sync waits for the Layer-2 verdict; blobs need an admitted peer.
        if (channel == transport::Channel::kControl && certs->on_control(peer, message)) return;
        if (channel == transport::Channel::kSync && !certs->on_sync(peer, message)) return;
        if (channel == transport::Channel::kBlobs && !certs->gate().admitted(peer)) return;
      }
#ifdef PEAT_MESH_BLOBS
      if (channel == transport::Channel::kBlobs && blob_service) {
        blob_service->on_message(peer, std::move(message));
        return;
      }
#endif
      if (channel == transport::Channel::kControl && is_parent_announcement(message)) {
        on_parent_announcement(peer, message);
        return;
      }
#ifdef PEAT_MESH_SYNC
      if (channel == transport::Channel::kSync && syncer) syncer->on_message(peer, message);
#endif
    };
    events.on_writable = [this](const transport::PeerId& peer) {
#ifdef PEAT_MESH_SYNC
      if (syncer) syncer->on_writable(peer);
#endif
#ifdef PEAT_MESH_BLOBS
      if (blob_service) blob_service->on_writable(peer);
#endif
      (void)peer;
    };
    quic->set_events(std::move(events));
    PEAT_TRY_STATUS(quic->start());
    PEAT_TRY_STATUS(start_sync());
    PEAT_TRY_STATUS(start_certificates());
    update_hierarchy();  // a configured parent makes this node hierarchical from the start
    quic_port = quic->local_port().value_or(0);
    spdlog::info("QUIC endpoint listening on {}:{} endpoint_id={}", config.quic_bind_host,
                 quic_port, quic->local_peer_id());

    switch (config.discovery_mode) {
      case DiscoveryMode::kNone:
        break;
      case DiscoveryMode::kStatic: {
        auto s = discovery::StaticDiscovery::from_file(*config.static_peers_file);
        if (!s) return s.error();
        disco = std::move(s.value());
        break;
      }
      case DiscoveryMode::kMdns:
        disco = std::make_unique<discovery::MdnsDiscovery>(*loop);
        break;
      case DiscoveryMode::kKubernetes:
#ifdef PEAT_MESH_KUBERNETES
        disco = std::make_unique<discovery::KubernetesDiscovery>();
        break;
#else
        return invalid_config_error("this build has no Kubernetes discovery");
#endif
    }
    if (disco) {
      auto stream = disco->event_stream();
      if (!stream) return stream.error();
      disco_events = *stream;
      std::weak_ptr<Impl> weak = weak_from_this();
      runtime::IoLoop* l = loop.get();
      disco_events->set_notify([weak, l] {
        l->post([weak] {
          if (auto self = weak.lock()) self->drain_discovery();
        });
      });
      PEAT_TRY_STATUS(disco->start());
      auto adv = disco->advertise(node_id, quic_port);
      if (!adv) spdlog::warn("discovery advertise failed: {}", adv.error().to_string());
      spdlog::info("discovery started mode={}", to_string(config.discovery_mode));
      drain_discovery();
    }
    return {};
  }

  // The mesh sync engine over the QUIC transport and the store (when both exist).
  Status start_sync() {
#ifdef PEAT_MESH_SYNC
    if (!docs) {
      spdlog::warn("no data dir: mesh sync disabled");
      return {};
    }
    sync::SyncEngineConfig sc;
    sc.node_id = quic->local_peer_id();
    sync::SyncEngineEvents se;
    se.on_remote_change = [this](const std::string& key, const transport::PeerId& peer) {
      auto* p = by_peer_id(peer);
      spdlog::debug("document {} changed by {}", key, p ? p->node_id : peer);
    };
    se.on_error = [this](const transport::PeerId& peer, const Error& e) {
      auto* p = by_peer_id(peer);
      spdlog::warn("sync frame from {} rejected: {}", p ? p->node_id : peer, e.to_string());
    };
    syncer = std::make_unique<sync::SyncEngine>(*loop, *quic, *docs, std::move(sc), std::move(se));
    PEAT_TRY_STATUS(syncer->start());
    spdlog::info("mesh sync engine started");
#else
    spdlog::warn("mesh sync engine not in this build: documents stay on the node that wrote them");
#endif
    return {};
  }

  bool sync_enabled() const {
#ifdef PEAT_MESH_SYNC
    return syncer != nullptr;
#else
    return false;
#endif
  }

  Status start_broker() {
    if (!config.broker_port) return {};
    broker::BrokerConfig bc;
    bc.bind_address = config.broker_bind_host;
    bc.port = *config.broker_port;
    bc.bearer_token = config.broker_token;
    broker = std::make_unique<broker::BrokerServer>(*loop, backend, bc);
    PEAT_TRY_STATUS(broker->start());
    broker_port = broker->port();
    return {};
  }

  // The Peat-Lite bridge on UDP and the OTA service on it. Like the Rust node, a port that cannot
  // be bound only warns (OTA is then unavailable); the mesh runs on.
  void start_lite() {
#ifdef PEAT_MESH_LITE
    if (!config.lite_port) return;
    const bool loopback =
        config.lite_bind_host.rfind("127.", 0) == 0 || config.lite_bind_host == "::1";
    lite::UdpPortConfig pc;
    pc.bind_address = config.lite_bind_host;
    pc.port = *config.lite_port;
    pc.broadcast = !loopback;
    lite::LiteConfig lc;
    lc.node_id = lite::node_id_from_hostname(node_id);
    // Announce to the LAN on the Lite port (5555 when the port is picked by the system).
    if (loopback) {
      lc.broadcast_target.reset();
    } else {
      lc.broadcast_target = transport::PeerAddress{
          "255.255.255.255", *config.lite_port != 0 ? *config.lite_port : lite::kDefaultPort};
    }
    lite::LiteEvents ev;
    ev.on_peer_connected = [](const lite::PeerId& peer, std::uint16_t capabilities) {
      spdlog::info("Lite peer connected peer_id={} capabilities={}", peer,
                   lite::caps::to_string(capabilities));
    };
    ev.on_peer_disconnected = [](const lite::PeerId& peer, transport::DisconnectReason reason) {
      spdlog::info("Lite peer disconnected peer_id={} reason={}", peer,
                   transport::to_string(reason));
    };
    // Telemetry becomes documents in the store, which the sync engine sends to the peers.
    ev.on_document = [this](const std::string& collection, const std::string& id,
                            const std::string& json_text) {
      auto st = put_local(collection, id, json_text);
      if (!st)
        spdlog::warn("Lite document {}/{} not stored: {}", collection, id, st.error().to_string());
    };
    ev.on_document_deleted = [this](const std::string& collection, const std::string& id) {
      auto r = delete_local(collection, id);
      if (!r) spdlog::warn("Lite delete {}/{} failed: {}", collection, id, r.error().to_string());
    };
    ev.on_query = [this](const lite::PeerId&, const lite::QueryRequest& q) {
      std::vector<std::pair<std::string, std::string>> out;
      auto rows = valid_name(q.collection)
                      ? query_local(store::Query(q.collection))
                      : Result<std::vector<std::string>>(std::vector<std::string>{});
      if (!rows) return out;
      for (const auto& text : *rows) {
        auto j = json::parse(text, nullptr, false);
        if (!j.is_object() || !j.contains("_id") || !j["_id"].is_string()) continue;
        auto id = j["_id"].get<std::string>();
        if (q.doc_id && *q.doc_id != id) continue;
        j.erase("_id");
        out.emplace_back(std::move(id), j.dump());
      }
      return out;
    };
    lite_udp = lite::make_udp_port(*loop, pc);
    lite_bridge = std::make_unique<lite::LiteBridge>(*loop, *lite_udp, lc, std::move(ev));
    auto st = lite_bridge->start();
    if (!st) {
      spdlog::warn("Peat-Lite bridge failed to start on UDP {}:{}: {} (OTA unavailable)",
                   config.lite_bind_host, *config.lite_port, st.error().to_string());
      lite_bridge.reset();
      lite_udp.reset();
      return;
    }
    std::optional<security::DeviceKeypair> signing;
    if (formation_seed) {
      signing = lite::ota_signing_key(*formation_seed);
      spdlog::info("OTA signing public key {}", signing->public_key().to_hex());
    } else {
      spdlog::warn("no formation secret: OTA images are offered unsigned");
    }
    ota = std::make_unique<lite::OtaService>(*loop, *lite_bridge, lite::OtaConfig{}, signing);
    lite_port = lite_udp->local_address().port;
    spdlog::info("Peat-Lite bridge listening on UDP {}:{} lite_node_id={:08X}",
                 config.lite_bind_host, lite_port, lc.node_id);
#endif
  }

  void stop_lite() {
#ifdef PEAT_MESH_LITE
    ota.reset();
    if (lite_bridge) lite_bridge->stop();  // LEAVE to every Lite peer, closes the port
#endif
  }

  void schedule_tick() {
    std::weak_ptr<Impl> weak = weak_from_this();
    tick_timer = loop->call_after(config.reconnect_interval, [weak] {
      if (auto self = weak.lock()) self->tick();
    });
  }

  void tick() {
    if (!ticking) return;
    if (quic) {
      for (auto& [id, p] : known) {
        if (p.connected || p.dialing || p.addresses.empty()) continue;
        if (certs && !certs->may_dial(p.peer_id, p.public_key)) continue;
        ++p.ticks_unconnected;
        // The smaller endpoint id dials first, so two nodes do not race to connect; the other
        // side dials too if nothing happened for a while (one-sided peer lists).
        if (quic->local_peer_id() < p.peer_id || p.ticks_unconnected >= 3) dial(p);
      }
      // The transport drops messages that arrive before it reports the connection: announce
      // again to every connected peer whose announcement we have not heard (it asks back).
      for (auto& [id, p] : known)
        if (p.connected && !p.announced) announce_parent(p.peer_id, true);
    }
    if (docs) {
      auto expired = docs->base().expire(loop->unix_millis());
      if (!expired) spdlog::warn("TTL expiry failed: {}", expired.error().to_string());
      collect_garbage();
    }
    schedule_tick();
  }

  // Drops tombstones past their collection's TTL and expired implicit-TTL documents, every
  // gc_interval (the first time one interval after start).
  void collect_garbage() {
    const UnixMillis now = loop->unix_millis();
    if (last_gc == 0) last_gc = now;
    if (now - last_gc < static_cast<UnixMillis>(config.gc_interval.count())) return;
    last_gc = now;
    auto gc = docs->base().gc(now);
    if (!gc) {
      spdlog::warn("garbage collection failed: {}", gc.error().to_string());
    } else if (gc->tombstones_removed + gc->documents_removed > 0) {
      spdlog::info("garbage collection removed {} tombstones and {} expired documents",
                   gc->tombstones_removed, gc->documents_removed);
    }
  }

  void dial(KnownPeer& p) {
    p.dialing = true;
    spdlog::debug("dialling {} ({})", p.node_id, p.peer_id);
    quic->connect(p.peer_id, p.addresses);
  }

  void drain_discovery() {
    if (!disco_events || !formation_seed) return;
    for (auto& ev : disco_events->drain()) {
      if (auto* found = std::get_if<discovery::PeerFound>(&ev)) {
        add_peer(found->peer);
      } else if (auto* updated = std::get_if<discovery::PeerUpdated>(&ev)) {
        add_peer(updated->peer);
      } else if (auto* lost = std::get_if<discovery::PeerLost>(&ev)) {
        auto it = known.find(lost->node_id);
        if (it != known.end()) {
          spdlog::info("peer lost from discovery node_id={}", lost->node_id);
          if (it->second.connected && quic) quic->disconnect(it->second.peer_id);
          known.erase(it);
          update_hierarchy();
        }
      }
    }
  }

  void add_peer(const discovery::PeerInfo& info) {
    if (info.node_id == node_id) return;
    auto kp = security::node_endpoint_keypair(*formation_seed, info.node_id);
    auto& p = known[info.node_id];
    bool fresh = p.node_id.empty();
    p.node_id = info.node_id;
    p.public_key = kp.public_key_bytes();
    p.peer_id = transport::quic::peer_id_from_public_key(p.public_key);
    p.addresses = info.addresses;
    if (fresh) {
      spdlog::info("peer discovered node_id={} endpoint_id={} addresses={}", p.node_id, p.peer_id,
                   info.addresses.empty() ? std::string("-") : info.addresses[0].to_string());
      if (quic && quic->local_peer_id() < p.peer_id && !p.addresses.empty()) dial(p);
    }
  }

  Status start_certificates() {
    if (!config.authority_key && config.enrollment_tokens.empty()) return {};
    auto options = certificate_options(config, formation_seed, endpoint->public_key_bytes());
    if (!options) return options.error();
    CertificateHooks hooks;
    hooks.admit = [this](const transport::PeerId& peer) { admit_peer(peer); };
    hooks.deliver = [this](const transport::PeerId& peer, Bytes message) {
#ifdef PEAT_MESH_SYNC
      if (syncer) syncer->on_message(peer, message);
#endif
      (void)peer, (void)message;
    };
    hooks.name = [this](const transport::PeerId& peer) {
      auto* p = by_peer_id(peer);
      return p ? p->node_id : peer;
    };
    certs = std::make_unique<CertificateService>(
        *loop, rng, *quic, docs.get(), std::move(options.value()), *endpoint, std::move(hooks));
    return certs->start();
  }

  void on_connected(const transport::PeerId& peer) {
    if (certs && certs->gating()) {
      // Admitted (admit_peer) once the Layer-2 gate has a verdict.
      auto* p = by_peer_id(peer);
      if (!p || p->connected) return;
      p->dialing = true;  // connected, not yet admitted: no re-dial meanwhile
      certs->on_connected(peer, p->public_key);
      return;
    }
    admit_peer(peer);
  }

  void admit_peer(const transport::PeerId& peer) {
    auto* p = by_peer_id(peer);
    std::string name = p ? p->node_id : peer;
    if (p) {
      if (p->connected) return;
      p->connected = true;
      p->dialing = false;
      p->ticks_unconnected = 0;
    }
    ++peers_joined;
    spdlog::info("Peer connected node_id={} endpoint_id={}", name, peer);
    // The parent's role is known from the configuration before the first sync frame.
    if (p) {
      p->announced = false;
      p->announced_parent.reset();
      update_hierarchy();
    }
#ifdef PEAT_MESH_SYNC
    if (syncer) syncer->on_connected(peer);
#endif
    announce_parent(peer, true);
    emit(PeerJoined{name});
    emit(TopologyChanged{role(), connected_count()});
  }

  void on_disconnected(const transport::PeerId& peer, transport::DisconnectReason reason,
                       const std::string& detail) {
    if (certs) certs->on_disconnected(peer);
#ifdef PEAT_MESH_BLOBS
    if (blob_service) blob_service->on_disconnected(peer, detail);
#endif
    auto* p = by_peer_id(peer);
    if (!p) return;
    p->dialing = false;
#ifdef PEAT_MESH_SYNC
    if (syncer && p->connected) syncer->on_disconnected(peer);
#endif
    if (!p->connected) {
      spdlog::debug("connection to {} failed: {} {}", p->node_id, transport::to_string(reason),
                    detail);
      return;
    }
    p->connected = false;
    p->announced = false;
    p->announced_parent.reset();
    update_hierarchy();
    ++peers_left;
    spdlog::info("Peer disconnected node_id={} reason={} ({})", p->node_id,
                 transport::to_string(reason), detail);
    emit(PeerLeft{p->node_id, transport::to_string(reason)});
    emit(TopologyChanged{role(), connected_count()});
  }

  // Tears down in reverse order; safe on a partly started mesh. Network thread.
  void shutdown_network(bool graceful) {
    ticking = false;
#ifdef PEAT_MESH_QOS
    if (storage_guard) storage_guard->stop();
#endif
    if (tick_timer) loop->cancel(*tick_timer);
    tick_timer.reset();
    if (broker) broker->stop();
    stop_lite();
    if (disco) {
      auto st = disco->stop();
      if (!st) spdlog::warn("discovery stop: {}", st.error().to_string());
    }
    if (disco_events) disco_events->set_notify(nullptr);
    (void)graceful;
  }

  void close_transport() {
#ifdef PEAT_MESH_BLOBS
    // Running fetches resume from here after a restart.
    if (blob_service) blob_service->checkpoint_all();
#endif
#ifdef PEAT_MESH_SYNC
    if (syncer) syncer->stop();  // persists the sync states of connected peers
#endif
    if (certs) certs->stop();
    if (quic) {
      // Goodbye: close each connection with a CONNECTION_CLOSE (peers see "remote closed" at
      // once; locally each peer leaves with "local closed"), then stop() closes whatever is
      // still opening and, only after that, the socket.
      for (const auto& [id, p] : known)
        if (p.connected) quic->disconnect(p.peer_id);
      quic->stop();
    }
  }

  // Nothing queued for any peer (the drain of a graceful stop ends early then).
  bool drained() const {
#ifdef PEAT_MESH_BLOBS
    // Blobs being served get the same grace (a fetch cut off here resumes later).
    if (blob_service && blob_service->active_uploads() > 0) return false;
#endif
#ifdef PEAT_MESH_SYNC
    return !syncer || syncer->idle();
#else
    return true;
#endif
  }

  // ---- documents (network thread) ---------------------------------------------------------
  Status need_store() const {
    if (!docs) return make_error("NO_STORE", "this mesh has no document store (no data dir)");
    return {};
  }

  // Present and not soft-deleted.
  Result<bool> is_live(const std::string& key) const {
    auto meta = docs->base().meta(key);
    if (!meta) return meta.error();
    return meta->has_value() && !(*meta)->soft_deleted;
  }

  Status put_local(const std::string& collection, const std::string& id, std::string_view text) {
    PEAT_TRY_STATUS(need_store());
    if (!valid_name(collection) || !valid_name(id))
      return make_error("BAD_REQUEST", "collection and id must be non-empty without ':' or '/'");
    auto j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object())
      return make_error("BAD_REQUEST", "document must be a JSON object");
    j.erase("_id");
    PEAT_TRY_STATUS(docs->put_json(collection + ":" + id, j, loop->unix_millis()));
    ++documents_written;
    return {};
  }

  Result<std::optional<std::string>> get_local(const std::string& collection,
                                               const std::string& id) {
    PEAT_TRY_STATUS(need_store());
    if (!valid_name(collection) || !valid_name(id)) return std::optional<std::string>();
    auto live = is_live(collection + ":" + id);
    if (!live) return live.error();
    if (!*live) return std::optional<std::string>();
    auto j = docs->get_json(collection + ":" + id);
    if (!j) return j.error();
    if (!*j || marked_deleted(**j)) return std::optional<std::string>();
    return std::optional<std::string>(with_id(std::move(**j), id));
  }

  Result<bool> delete_local(const std::string& collection, const std::string& id) {
    PEAT_TRY_STATUS(need_store());
    if (!valid_name(collection) || !valid_name(id)) return false;
    const std::string key = collection + ":" + id;
    auto live = is_live(key);
    if (!live) return live.error();
    if (!*live) return false;
    auto current = docs->get_json(key);
    if (!current) return current.error();
    if (!*current || marked_deleted(**current)) return false;
    // A soft delete first writes `_deleted: true`; report it as one deletion, not a put too.
    deleting_key = key;
#ifdef PEAT_MESH_SYNC
    // The engine deletes by the collection's policy and sends the tombstone to the peers.
    auto r =
        syncer ? syncer->delete_document(key) : docs->remove(key, loop->unix_millis(), node_id);
#else
    auto r = docs->remove(key, loop->unix_millis(), node_id);
#endif
    deleting_key.clear();
    if (!r) return r.error();
    if (r->outcome == store::DeleteOutcome::kImmutable)
      return make_error("BAD_REQUEST", "documents of '" + collection + "' cannot be deleted");
    return r->outcome != store::DeleteOutcome::kNotFound;
  }

  Result<std::vector<std::string>> query_local(const store::Query& q) {
    PEAT_TRY_STATUS(need_store());
    auto rows = docs->query_json(q);
    if (!rows) return rows.error();
    std::vector<std::string> out;
    out.reserve(rows->size());
    for (auto& [id, j] : *rows)
      if (!marked_deleted(j)) out.push_back(with_id(std::move(j), id));
    return out;
  }

  std::vector<PeerView> peers_local() const {
    std::vector<PeerView> out;
    for (const auto& [id, p] : known) {
      PeerView v;
      v.node_id = p.node_id;
      v.peer_id = p.peer_id;
      v.connected = p.connected;
      v.state = "unknown";
      if (p.connected && quic) {
        if (auto h = quic->health(p.peer_id)) {
          v.state = health_text(h->state);
          v.rtt_ms = h->rtt_ms;
        }
      }
      for (const auto& a : p.addresses) v.addresses.push_back(discovery::format_socket_address(a));
      out.push_back(std::move(v));
    }
    return out;
  }

  // ---- blobs ---------------------------------------------------------------------------------
#ifdef PEAT_MESH_BLOBS
  // The store of a running mesh (any thread).
  Result<std::shared_ptr<blob::BlobStore>> blobs_or_error() const {
    std::lock_guard lock(state_mu);
    if (state != MeshState::kRunning) return not_running_error();
    if (!blob_store) return no_blob_store_error();
    return blob_store;
  }
#endif

  // Network thread.
  Result<BlobStatus> fetch_blob_local(const std::string& hash_hex, const std::string& peer) {
#ifdef PEAT_MESH_BLOBS
    auto hash = blob::hash_from_hex(hash_hex);
    if (!hash) return hash.error();
    const std::string key = blob::hash_to_hex(*hash);
    if (!blob_store) return no_blob_store_error();
    if (blob_store->exists(*hash)) return blob_status_local(key);
    if (auto it = blob_fetches.find(key); it != blob_fetches.end() && it->second.id)
      return it->second.status;
    if (!blob_service || !quic)
      return make_error("TRANSPORT", "transport error: no QUIC endpoint (no formation secret)");
    transport::PeerId pid;
    std::string name;
    if (auto k = known.find(peer); k != known.end()) {
      pid = k->second.peer_id;
      name = k->first;
    } else if (auto* p = by_peer_id(peer)) {
      pid = p->peer_id;
      name = p->node_id;
    } else {
      return make_error("NOT_FOUND", "unknown peer: " + peer);
    }
    if (!quic->is_connected(pid)) return make_error("NOT_CONNECTED", "peer not connected: " + name);
    blob_fetches[key] = {BlobStatus{key, name, "fetching", 0, 0}, std::nullopt};
    blob::FetchOptions options;
    options.on_progress = [this, key](const blob::TransferEvent& e) {
      auto it = blob_fetches.find(key);
      if (it == blob_fetches.end()) return;
      it->second.status.bytes_done = e.bytes_done;
      it->second.status.total = e.total;
    };
    auto done = [this, key, name](Result<blob::BlobToken> r) {
      auto it = blob_fetches.find(key);
      if (it == blob_fetches.end()) return;
      it->second.id.reset();
      auto& st = it->second.status;
      if (r) {
        st.state = "complete";
        st.bytes_done = st.total = r->size;
        spdlog::info("blob {} fetched from {} ({} bytes)", key, name, r->size);
      } else {
        st.state = "failed: " + r.error().to_string();
        spdlog::warn("blob {} fetch from {} failed: {}", key, name, r.error().to_string());
      }
    };
    auto id = blob_service->fetch(pid, *hash, std::move(done), std::move(options));
    if (!id) {
      blob_fetches.erase(key);
      return id.error();
    }
    auto& record = blob_fetches[key];
    if (record.status.state == "fetching") record.id = *id;
    return record.status;
#else
    (void)hash_hex, (void)peer;
    return no_blob_store_error();
#endif
  }

  // Network thread.
  Result<BlobStatus> blob_status_local(const std::string& hash_hex) {
#ifdef PEAT_MESH_BLOBS
    auto hash = blob::hash_from_hex(hash_hex);
    if (!hash) return hash.error();
    const std::string key = blob::hash_to_hex(*hash);
    if (!blob_store) return no_blob_store_error();
    auto it = blob_fetches.find(key);
    if (blob_store->exists(*hash)) {
      auto info = blob_store->info(*hash);
      if (!info) return info.error();
      std::string from = it != blob_fetches.end() ? it->second.status.peer : "";
      return BlobStatus{key, from, "complete", info->size, info->size};
    }
    if (it != blob_fetches.end()) return it->second.status;
    return make_error("NOT_FOUND", "blob not found: " + key);
#else
    (void)hash_hex;
    return no_blob_store_error();
#endif
  }

  // ---- lifecycle (caller thread) ------------------------------------------------------------
  Status start() {
    if (on_loop()) return make_error("WRONG_THREAD", "start() called from the network thread");
    {
      std::lock_guard lock(state_mu);
      if (state != MeshState::kCreated && state != MeshState::kStopped)
        return already_running_error();
      state = MeshState::kStarting;
    }
    emit(StateChanged{MeshState::kStarting});
    loop = std::make_unique<runtime::IoLoop>();
    ticking = true;
    schedule_tick();
    std::promise<void> running;
    auto started = running.get_future();
    thread = std::thread([this, &running] {
      loop_thread.store(std::this_thread::get_id());
      running.set_value();
      loop->run();
    });
    started.wait();
    auto promise = std::make_shared<std::promise<Status>>();
    auto future = promise->get_future();
    loop->post([this, promise] {
      Status st = open_store();
      if (st) st = start_storage_guard();
      if (st) st = open_blobs();
      if (st) st = start_network();
      if (st) start_lite();
      if (st) st = start_broker();
      promise->set_value(st);
    });
    Status st = future.get();
    if (!st) {
      spdlog::error("mesh start failed: {}", st.error().to_string());
      teardown(false);
      set_state(MeshState::kStopped);
      return st;
    }
    set_state(MeshState::kRunning);
    loop->post([this] { emit(TopologyChanged{role(), connected_count()}); });
    return {};
  }

  // Calls done once nothing is queued for any peer, or at the deadline (checks every 20 ms).
  void drain_then(Instant deadline, std::function<void()> done) {
    if (drained() || loop->now() >= deadline) {
      done();
      return;
    }
    loop->call_after(std::chrono::milliseconds(20),
                     [this, deadline, done = std::move(done)]() mutable {
                       drain_then(deadline, std::move(done));
                     });
  }

  // Stops the network thread after shutting its subsystems; destroys them in reverse order.
  void teardown(bool graceful) {
    std::promise<void> done;
    auto finished = done.get_future();
    loop->post([this, graceful, &done] {
      shutdown_network(graceful);
      auto finish = [this, &done] {
        close_transport();
        done.set_value();
      };
      if (graceful && quic && config.drain_timeout.count() > 0) {
        drain_then(loop->now() + config.drain_timeout, finish);
      } else {
        finish();
      }
    });
    finished.wait();
    // Let the connection-close packets go out, then end the thread.
    loop->post(
        [this] { loop->call_after(std::chrono::milliseconds(50), [this] { loop->stop(); }); });
    thread.join();
    loop_thread.store(std::thread::id{});
    broker.reset();
    certs.reset();
#ifdef PEAT_MESH_SYNC
    syncer.reset();
#endif
    disco_events.reset();
    disco.reset();
#ifdef PEAT_MESH_LITE
    ota.reset();
    lite_bridge.reset();
    lite_udp.reset();
#endif
    lite_port = 0;
#ifdef PEAT_MESH_BLOBS
    blob_service.reset();
    blob_fetches.clear();
    {
      std::lock_guard lock(state_mu);
      blob_store.reset();
    }
#endif
    quic.reset();
    doc_subscription.cancel();
#ifdef PEAT_MESH_QOS
    storage_guard.reset();  // holds a store subscription
#endif
    docs.reset();  // LMDB commits are durable; closing releases the environment
    known.clear();
    hierarchy = {};
    loop.reset();
  }

  Status stop() {
    if (on_loop()) return make_error("WRONG_THREAD", "stop() called from the network thread");
    {
      std::lock_guard lock(state_mu);
      if (state != MeshState::kRunning) return not_running_error();
      state = MeshState::kStopping;
    }
    emit(StateChanged{MeshState::kStopping});
    loop->post([this] { emit(TopologyChanged{"stopped", 0}); });
    teardown(true);
    set_state(MeshState::kStopped);
    spdlog::info("mesh stopped node_id={}", node_id);
    return {};
  }
};

// ---------------------------------------------------------------------------------------------
// Blob store calls that run on the caller's thread (imports do not stall the network thread).
namespace {

#ifdef PEAT_MESH_BLOBS
// Stores a blob through `put(store, metadata)` (put_bytes or put_file) and describes it.
template <typename Put>
Result<BlobInfo> blob_import(PeatMesh::Impl& impl, std::optional<std::string> name,
                             std::optional<std::string> content_type, Put put) {
  auto store = impl.blobs_or_error();
  if (!store) return store.error();
  auto token = put(**store, blob::BlobMetadata{std::move(name), std::move(content_type), {}});
  if (!token) return token.error();
  return blob_info(*token);
}
#endif

Result<BlobInfo> blob_add(PeatMesh::Impl& impl, ByteView data, std::optional<std::string> name,
                          std::optional<std::string> content_type) {
#ifdef PEAT_MESH_BLOBS
  return blob_import(
      impl, std::move(name), std::move(content_type),
      [&](blob::BlobStore& s, const blob::BlobMetadata& m) { return s.put_bytes(data, m); });
#else
  (void)impl, (void)data, (void)name, (void)content_type;
  return no_blob_store_error();
#endif
}

Result<BlobInfo> blob_add_file(PeatMesh::Impl& impl, const std::filesystem::path& file,
                               std::optional<std::string> name,
                               std::optional<std::string> content_type) {
#ifdef PEAT_MESH_BLOBS
  return blob_import(
      impl, std::move(name), std::move(content_type),
      [&](blob::BlobStore& s, const blob::BlobMetadata& m) { return s.put_file(file, m); });
#else
  (void)impl, (void)file, (void)name, (void)content_type;
  return no_blob_store_error();
#endif
}

Result<std::vector<BlobInfo>> blob_list(PeatMesh::Impl& impl) {
#ifdef PEAT_MESH_BLOBS
  auto store = impl.blobs_or_error();
  if (!store) return store.error();
  std::vector<BlobInfo> out;
  for (const auto& t : (*store)->list()) out.push_back(blob_info(t));
  return out;
#else
  (void)impl;
  return no_blob_store_error();
#endif
}

Result<Bytes> blob_read(PeatMesh::Impl& impl, const std::string& hash) {
#ifdef PEAT_MESH_BLOBS
  auto store = impl.blobs_or_error();
  if (!store) return store.error();
  auto h = blob::hash_from_hex(hash);
  if (!h) return h.error();
  return (*store)->read_all(*h);
#else
  (void)impl, (void)hash;
  return no_blob_store_error();
#endif
}

// The file of a stored blob and what is known of it.
Result<broker::BlobFile> blob_entry(PeatMesh::Impl& impl, const std::string& hash) {
#ifdef PEAT_MESH_BLOBS
  auto store = impl.blobs_or_error();
  if (!store) return store.error();
  auto h = blob::hash_from_hex(hash);
  if (!h) return h.error();
  if (!(*store)->exists(*h)) return make_error("NOT_FOUND", "blob not found: " + hash);
  auto token = (*store)->info(*h);
  if (!token) return token.error();
  return broker::BlobFile{(*store)->path_of(*h).string(), blob_info(*token)};
#else
  (void)impl, (void)hash;
  return no_blob_store_error();
#endif
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// MeshBackend (the broker's view), called on the network thread.

broker::NodeInfo MeshBackend::node_info() {
  auto st = mesh_.current_state();
  std::uint64_t up = 0;
  {
    std::lock_guard lock(mesh_.state_mu);
    if (st == MeshState::kRunning && mesh_.started_at) {
      up = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                          std::chrono::steady_clock::now() - *mesh_.started_at)
                                          .count());
    }
  }
  return {mesh_.node_id, up, PEAT_MESH_VERSION};
}

broker::Readiness MeshBackend::readiness() {
  broker::Readiness r;
  bool running = mesh_.current_state() == MeshState::kRunning;
  bool store =
      running && mesh_.on_network<bool>([this]() -> Result<bool> { return mesh_.docs != nullptr; })
                     .value_or(false);
  r.checks.push_back(
      {"mesh", running, running ? std::nullopt : std::optional<std::string>("mesh not running")});
  r.checks.push_back(
      {"store", store, store ? std::nullopt : std::optional<std::string>("no document store")});
  bool sync_on =
      running && mesh_.on_network<bool>([this]() -> Result<bool> { return mesh_.sync_enabled(); })
                     .value_or(false);
  r.checks.push_back(
      {"sync", sync_on,
       sync_on ? std::nullopt : std::optional<std::string>("mesh sync engine not running")});
  r.ready = running;
  return r;
}

std::vector<broker::PeerSummary> MeshBackend::peers() {
  auto views = mesh_.on_network<std::vector<PeerView>>(
      [this]() -> Result<std::vector<PeerView>> { return mesh_.peers_local(); });
  std::vector<broker::PeerSummary> out;
  if (!views) return out;
  for (const auto& v : *views) {
    if (!v.connected) continue;
    out.push_back({v.node_id, true, v.state,
                   v.rtt_ms ? std::optional<std::uint64_t>(*v.rtt_ms) : std::nullopt});
  }
  return out;
}

std::optional<broker::PeerSummary> MeshBackend::peer(const std::string& id) {
  for (const auto& p : peers())
    if (p.id == id) return p;
  return std::nullopt;
}

broker::TopologySummary MeshBackend::topology() {
  auto t = mesh_.on_network<broker::TopologySummary>([this]() -> Result<broker::TopologySummary> {
    return broker::TopologySummary{mesh_.connected_count(), mesh_.role(), 0};
  });
  return t ? *t : broker::TopologySummary{0, "stopped", 0};
}

std::optional<std::string> MeshBackend::topology_parent() {
  return mesh_.config.parent;
}

std::optional<std::vector<std::string>> MeshBackend::list_documents(const std::string& collection) {
  auto docs = mesh_.on_network<std::vector<std::string>>(
      [this, collection] { return mesh_.query_local(store::Query(collection)); });
  if (!docs || docs->empty()) return std::nullopt;  // Rust: empty collection = not available
  return std::move(docs.value());
}

std::optional<std::string> MeshBackend::get_document(const std::string& collection,
                                                     const std::string& id) {
  auto d = mesh_.on_network<std::optional<std::string>>(
      [this, collection, id] { return mesh_.get_local(collection, id); });
  if (!d) return std::nullopt;
  return *d;
}

Status MeshBackend::put_document(const std::string& collection, const std::string& id,
                                 const std::string& json_text) {
  auto r = mesh_.on_network<bool>([this, collection, id, json_text]() -> Result<bool> {
    PEAT_TRY_STATUS(mesh_.put_local(collection, id, json_text));
    return true;
  });
  if (!r) return r.error();
  return {};
}

Result<bool> MeshBackend::delete_document(const std::string& collection, const std::string& id) {
  return mesh_.on_network<bool>(
      [this, collection, id] { return mesh_.delete_local(collection, id); });
}

Result<std::vector<std::string>> MeshBackend::query_documents(const std::string& collection,
                                                              const std::string& query_json) {
  auto q = parse_query(collection, query_json);
  if (!q) return q.error();
  store::Query query = *q;
  return mesh_.on_network<std::vector<std::string>>(
      [this, query] { return mesh_.query_local(query); });
}

Result<broker::OtaStarted> MeshBackend::start_ota(const std::string& peer_id, std::string firmware,
                                                  std::string version) {
  // Captures by value: after a TIMEOUT the task may still run on the network thread.
  return mesh_.on_network<broker::OtaStarted>(
      [this, peer_id, firmware = std::move(firmware),
       version = std::move(version)]() -> Result<broker::OtaStarted> {
#ifdef PEAT_MESH_LITE
        if (mesh_.ota) return mesh_.ota->start(peer_id, firmware, version);
#endif
        (void)peer_id, (void)firmware, (void)version;
        return make_error("UNSUPPORTED", "the Peat-Lite bridge is not running on this node");
      });
}

std::optional<broker::OtaStatus> MeshBackend::ota_status(const std::string& peer_id) {
  auto r = mesh_.on_network<std::optional<broker::OtaStatus>>(
      [this, peer_id]() -> Result<std::optional<broker::OtaStatus>> {
#ifdef PEAT_MESH_LITE
        if (mesh_.ota) return mesh_.ota->status(peer_id);
#endif
        (void)peer_id;
        return std::optional<broker::OtaStatus>();
      });
  return r ? *r : std::nullopt;
}

Result<broker::BlobSummary> MeshBackend::add_blob(const std::string& data,
                                                  std::optional<std::string> name,
                                                  std::optional<std::string> content_type) {
  return blob_add(mesh_, ByteView(reinterpret_cast<const std::uint8_t*>(data.data()), data.size()),
                  std::move(name), std::move(content_type));
}

Result<std::vector<broker::BlobSummary>> MeshBackend::list_blobs() {
  return blob_list(mesh_);
}

Result<broker::BlobFile> MeshBackend::blob_file(const std::string& hash) {
  return blob_entry(mesh_, hash);
}

Result<broker::BlobFetchState> MeshBackend::fetch_blob(const std::string& hash,
                                                       const std::string& peer) {
  return mesh_.on_network<BlobStatus>(
      [this, hash, peer] { return mesh_.fetch_blob_local(hash, peer); });
}

Result<broker::BlobFetchState> MeshBackend::blob_status(const std::string& hash) {
  return mesh_.on_network<BlobStatus>([this, hash] { return mesh_.blob_status_local(hash); });
}

std::vector<broker::MetricSample> MeshBackend::metrics() {
  auto gauge = [](std::string name, std::string help, double v) {
    return broker::MetricSample{std::move(name), std::move(help), "gauge", {}, v};
  };
  auto counter = [](std::string name, std::string help, double v) {
    return broker::MetricSample{std::move(name), std::move(help), "counter", {}, v};
  };
  auto uptime = static_cast<double>(node_info().uptime_secs);
  auto m = mesh_.on_network<std::vector<broker::MetricSample>>(
      [&]() -> Result<std::vector<broker::MetricSample>> {
        std::vector<broker::MetricSample> out;
        out.push_back(gauge("peat_mesh_peers_connected", "Peers with an open QUIC connection",
                            static_cast<double>(mesh_.connected_count())));
        out.push_back(gauge("peat_mesh_peers_known", "Peers known from discovery",
                            static_cast<double>(mesh_.known.size())));
        out.push_back(counter("peat_mesh_peer_joins_total", "Peer connections established",
                              static_cast<double>(mesh_.peers_joined)));
        out.push_back(counter("peat_mesh_peer_leaves_total", "Peer connections closed",
                              static_cast<double>(mesh_.peers_left)));
        out.push_back(counter("peat_mesh_documents_written_total",
                              "Documents written through this node",
                              static_cast<double>(mesh_.documents_written)));
        out.push_back(gauge("peat_mesh_sync_enabled", "1 when the mesh sync engine runs",
                            mesh_.sync_enabled() ? 1 : 0));
#ifdef PEAT_MESH_SYNC
        if (mesh_.syncer) {
          sync::PeerSyncStats total;
          for (const auto& peer : mesh_.syncer->peers()) {
            auto st = mesh_.syncer->stats(peer);
            total.bytes_sent += st.bytes_sent;
            total.bytes_received += st.bytes_received;
            total.negentropy_rounds += st.negentropy_rounds;
            total.deltas_sent += st.deltas_sent;
            total.snapshots_sent += st.snapshots_sent;
            total.tombstones_applied += st.tombstones_applied;
            total.decode_errors += st.decode_errors;
          }
          out.push_back(counter("peat_mesh_sync_bytes_sent_total",
                                "Sync bytes sent to connected peers",
                                static_cast<double>(total.bytes_sent)));
          out.push_back(counter("peat_mesh_sync_bytes_received_total",
                                "Sync bytes received from connected peers",
                                static_cast<double>(total.bytes_received)));
          out.push_back(counter("peat_mesh_sync_negentropy_rounds_total",
                                "Negentropy rounds with connected peers",
                                static_cast<double>(total.negentropy_rounds)));
          out.push_back(counter("peat_mesh_sync_deltas_sent_total",
                                "Automerge sync messages sent to connected peers",
                                static_cast<double>(total.deltas_sent)));
          out.push_back(counter("peat_mesh_sync_snapshots_sent_total",
                                "Document snapshots sent to connected peers",
                                static_cast<double>(total.snapshots_sent)));
          out.push_back(counter("peat_mesh_sync_tombstones_applied_total",
                                "Tombstones from connected peers applied",
                                static_cast<double>(total.tombstones_applied)));
          out.push_back(counter("peat_mesh_sync_decode_errors_total",
                                "Sync frames from connected peers that failed to decode",
                                static_cast<double>(total.decode_errors)));
        }
#endif
#ifdef PEAT_MESH_QOS
        if (mesh_.storage_guard) {
          const auto storage = mesh_.storage_guard->metrics(mesh_.loop->unix_millis());
          const auto summary = mesh_.storage_guard->summary();
          out.push_back(gauge("peat_mesh_storage_used_bytes",
                              "Bytes of live documents counted by the QoS storage guard",
                              static_cast<double>(storage.used_bytes)));
          out.push_back(gauge("peat_mesh_storage_max_bytes", "QoS storage budget",
                              static_cast<double>(storage.max_bytes)));
          out.push_back(gauge("peat_mesh_storage_evictions",
                              "Documents evicted, as recorded in the eviction audit log",
                              static_cast<double>(summary.total_evictions)));
        }
#endif
        out.push_back(gauge("peat_mesh_uptime_seconds", "Seconds since the mesh started", uptime));
#ifdef PEAT_MESH_BLOBS
        if (mesh_.blob_service) {
          const auto& bs = mesh_.blob_service->stats();
          out.push_back(counter("peat_mesh_blob_bytes_sent_total", "Blob bytes served to peers",
                                static_cast<double>(bs.chunk_bytes_sent)));
          out.push_back(counter("peat_mesh_blob_bytes_received_total",
                                "Blob bytes fetched from peers",
                                static_cast<double>(bs.chunk_bytes_received)));
          out.push_back(counter("peat_mesh_blob_fetches_completed_total",
                                "Blob fetches that completed",
                                static_cast<double>(bs.fetches_completed)));
          out.push_back(counter("peat_mesh_blob_fetches_failed_total", "Blob fetches that failed",
                                static_cast<double>(bs.fetches_failed)));
          out.push_back(gauge("peat_mesh_blob_fetches_active", "Blob fetches running",
                              static_cast<double>(mesh_.blob_service->active_fetches())));
        }
#endif
#ifdef PEAT_MESH_LITE
        if (mesh_.lite_bridge) {
          const auto& ls = mesh_.lite_bridge->stats();
          out.push_back(gauge("peat_mesh_lite_peers", "Peat-Lite devices heard recently",
                              static_cast<double>(mesh_.lite_bridge->peers().size())));
          out.push_back(counter("peat_mesh_lite_packets_received_total",
                                "Peat-Lite datagrams received", static_cast<double>(ls.received)));
          out.push_back(counter("peat_mesh_lite_packets_invalid_total",
                                "Peat-Lite datagrams dropped as invalid",
                                static_cast<double>(ls.invalid_dropped + ls.payload_errors)));
        }
#endif
        if (mesh_.docs) {
          if (auto n = mesh_.docs->base().count())
            out.push_back(
                gauge("peat_mesh_documents", "Documents in the store", static_cast<double>(*n)));
        }
        return out;
      });
  return m ? std::move(m.value()) : std::vector<broker::MetricSample>{};
}

// ---------------------------------------------------------------------------------------------
PeatMesh::PeatMesh(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

PeatMesh::~PeatMesh() {
  if (impl_->current_state() == MeshState::kRunning) {
    auto st = impl_->stop();
    (void)st;
  }
}

MeshState PeatMesh::state() const {
  return impl_->current_state();
}

MeshStatus PeatMesh::status() const {
  MeshStatus s;
  s.node_id = impl_->node_id;
  s.sync_enabled = false;
  {
    std::lock_guard lock(impl_->state_mu);
    s.state = impl_->state;
    if (impl_->state == MeshState::kRunning && impl_->started_at) {
      s.uptime = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() -
                                                                  *impl_->started_at);
      s.quic_port = impl_->quic_port;
      s.broker_port = impl_->broker_port;
      s.lite_port = impl_->lite_port;
    }
  }
  if (s.state == MeshState::kRunning) {
    auto n = impl_->on_network<std::size_t>(
        [this]() -> Result<std::size_t> { return impl_->connected_count(); });
    s.peer_count = n ? *n : 0;
    auto on = impl_->on_network<bool>([this]() -> Result<bool> { return impl_->sync_enabled(); });
    s.sync_enabled = on ? *on : false;
  }
  return s;
}

const MeshConfig& PeatMesh::config() const {
  return impl_->config;
}
const std::string& PeatMesh::node_id() const {
  return impl_->node_id;
}
std::string PeatMesh::device_id() const {
  return impl_->device.device_id().to_hex();
}
std::string PeatMesh::endpoint_id() const {
  if (!impl_->endpoint) return "";
  return transport::quic::peer_id_from_public_key(impl_->endpoint->public_key_bytes());
}

Status PeatMesh::start() {
  return impl_->start();
}
Status PeatMesh::stop() {
  return impl_->stop();
}

std::uint64_t PeatMesh::subscribe(EventCallback callback) {
  std::lock_guard lock(impl_->subscribers_mu);
  auto id = impl_->next_subscriber++;
  impl_->subscribers.emplace(id, std::move(callback));
  return id;
}

void PeatMesh::unsubscribe(std::uint64_t id) {
  std::lock_guard lock(impl_->subscribers_mu);
  impl_->subscribers.erase(id);
}

Status PeatMesh::put_document(const std::string& collection, const std::string& id,
                              std::string_view json_text) {
  std::string text(json_text);
  auto r = impl_->on_network<bool>([&, text]() -> Result<bool> {
    PEAT_TRY_STATUS(impl_->put_local(collection, id, text));
    return true;
  });
  if (!r) return r.error();
  return {};
}

Result<std::optional<std::string>> PeatMesh::get_document(const std::string& collection,
                                                          const std::string& id) {
  return impl_->on_network<std::optional<std::string>>(
      [this, collection, id] { return impl_->get_local(collection, id); });
}

Result<bool> PeatMesh::delete_document(const std::string& collection, const std::string& id) {
  return impl_->on_network<bool>(
      [this, collection, id] { return impl_->delete_local(collection, id); });
}

Result<std::vector<std::string>> PeatMesh::list_documents(const std::string& collection) {
  return impl_->on_network<std::vector<std::string>>(
      [this, collection] { return impl_->query_local(store::Query(collection)); });
}

Result<std::vector<std::string>> PeatMesh::query_documents(const std::string& collection,
                                                           std::string_view query_json) {
  auto q = parse_query(collection, query_json);
  if (!q) return q.error();
  store::Query query = *q;
  return impl_->on_network<std::vector<std::string>>(
      [this, query] { return impl_->query_local(query); });
}

Result<HierarchyView> PeatMesh::hierarchy() {
  return impl_->on_network<HierarchyView>([this]() -> Result<HierarchyView> {
    HierarchyView v = impl_->hierarchy;
    v.parent = impl_->config.parent;
    v.role = impl_->role();
    return v;
  });
}

std::vector<PeerView> PeatMesh::peers() {
  auto r = impl_->on_network<std::vector<PeerView>>(
      [this]() -> Result<std::vector<PeerView>> { return impl_->peers_local(); });
  return r ? std::move(r.value()) : std::vector<PeerView>{};
}

Result<BlobInfo> PeatMesh::add_blob(ByteView data, std::optional<std::string> name,
                                    std::optional<std::string> content_type) {
  return blob_add(*impl_, data, std::move(name), std::move(content_type));
}

Result<BlobInfo> PeatMesh::add_blob_file(const std::filesystem::path& file,
                                         std::optional<std::string> name,
                                         std::optional<std::string> content_type) {
  return blob_add_file(*impl_, file, std::move(name), std::move(content_type));
}

Result<std::vector<BlobInfo>> PeatMesh::list_blobs() {
  return blob_list(*impl_);
}

Result<Bytes> PeatMesh::read_blob(const std::string& hash) {
  return blob_read(*impl_, hash);
}

Result<std::filesystem::path> PeatMesh::blob_path(const std::string& hash) {
  auto entry = blob_entry(*impl_, hash);
  if (!entry) return entry.error();
  return std::filesystem::path(entry->path);
}

Result<BlobStatus> PeatMesh::fetch_blob(const std::string& hash, const std::string& peer) {
  return impl_->on_network<BlobStatus>(
      [this, hash, peer] { return impl_->fetch_blob_local(hash, peer); });
}

Result<BlobStatus> PeatMesh::blob_status(const std::string& hash) {
  return impl_->on_network<BlobStatus>([this, hash] { return impl_->blob_status_local(hash); });
}

broker::BrokerBackend& PeatMesh::broker_backend() {
  return impl_->backend;
}

// ---------------------------------------------------------------------------------------------
PeatMeshBuilder& PeatMeshBuilder::with_config(MeshConfig config) {
  config_ = std::move(config);
  return *this;
}

PeatMeshBuilder& PeatMeshBuilder::with_device_seed(ByteView seed) {
  if (seed.size() != 32) {
    error_ =
        invalid_config_error("device seed must be 32 bytes, got " + std::to_string(seed.size()));
  } else {
    device_seed_ = Bytes(seed.begin(), seed.end());
  }
  return *this;
}

PeatMeshBuilder& PeatMeshBuilder::with_device_keypair_from_seed(ByteView seed,
                                                                std::string_view context) {
  if (seed.empty()) {
    error_ = invalid_config_error("device keypair seed must not be empty");
    return *this;
  }
  auto kp = security::DeviceKeypair::from_seed(seed, context);
  const auto& s = kp.secret_bytes();
  device_seed_ = Bytes(s.data(), s.data() + 32);
  return *this;
}

Result<std::unique_ptr<PeatMesh>> PeatMeshBuilder::build() {
  if (error_) return *error_;
  PEAT_TRY_STATUS(config_.validate());
  security::OsRng rng;
  std::string node_id = config_.node_id ? *config_.node_id : uuid_v4(rng);
  config_.node_id = node_id;

  std::optional<Bytes> seed;
  if (config_.formation_secret) {
    auto trimmed = *config_.formation_secret;
    while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.back())))
      trimmed.pop_back();
    while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.front())))
      trimmed.erase(trimmed.begin());
    auto decoded = from_base64(trimmed);
    if (!decoded) return invalid_config_error("formation secret: " + decoded.error().message);
    seed = std::move(decoded.value());
  }

  auto device = [&]() -> security::DeviceKeypair {
    if (device_seed_) {
      auto kp = security::DeviceKeypair::from_secret_bytes(*device_seed_);
      if (kp) return std::move(kp.value());
    }
    if (seed) return security::node_device_keypair(*seed, node_id);
    return security::DeviceKeypair::generate(rng);
  }();

  auto impl = std::make_shared<PeatMesh::Impl>(config_, node_id, std::move(device));
  impl->formation_seed = seed;
  if (config_.iroh.secret_key) {
    auto kp = security::DeviceKeypair::from_secret_bytes(
        ByteView(config_.iroh.secret_key->data(), config_.iroh.secret_key->size()));
    if (!kp) return invalid_config_error("iroh secret key: " + kp.error().message);
    impl->endpoint = std::move(kp.value());
  } else if (seed) {
    impl->endpoint = security::node_endpoint_keypair(*seed, node_id);
  }
  return std::unique_ptr<PeatMesh>(new PeatMesh(std::move(impl)));
}

}  // namespace peat::mesh
