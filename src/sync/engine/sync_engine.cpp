#include "peat/sync/sync_engine.hpp"

#include <algorithm>

#include "peat/doc/sync/sync.hpp"

namespace peat::sync {

namespace dsync = peat::doc::sync;
using transport::Channel;

namespace {

Bytes heads_bytes(const std::vector<doc::ChangeHash>& heads) {
  Bytes out;
  out.reserve(heads.size() * 32);
  for (const auto& h : heads) out.insert(out.end(), h.begin(), h.end());
  return out;
}

Bytes state_key(const PeerId& peer, std::string_view key) {
  Bytes k(peer.begin(), peer.end());
  k.push_back(0);
  k.insert(k.end(), key.begin(), key.end());
  return k;
}

using Digest = std::array<std::uint8_t, 32>;

}  // namespace

struct SyncEngine::Peer {
  explicit Peer(const SyncEngineConfig& c, Instant now)
      : bucket(c.peer_bandwidth_bps, c.peer_burst_bytes, now) {}

  struct Control {
    Bytes frame;
    bool droppable = false;  // relays may be dropped on overflow; negentropy may not
  };
  std::deque<Control> control;
  std::size_t control_bytes = 0;
  std::array<std::deque<std::string>, kQosClassCount> dirty;
  std::set<std::string, std::less<>> dirty_set;
  std::optional<Bytes> stalled;  // a frame refused by the bucket or the transport, sent first
  bool blocked = false;          // transport said WOULD_BLOCK; wait for on_writable
  TokenBucket bucket;
  TimerId bucket_timer = 0;
  bool pump_posted = false;

  std::map<std::string, dsync::State, std::less<>> states;
  std::map<std::string, std::vector<doc::ChangeHash>, std::less<>> persisted;  // shared heads
  std::map<std::string, Bytes, std::less<>> known_version;  // LatestOnly: version peer holds
  // Keys the peer declined (it evicted them): not offered, not sent, until it sends state for
  // the key itself or reconnects.
  std::set<std::string, std::less<>> declined;

  std::optional<Reconciler> initiator;
  std::optional<Reconciler> responder;
  std::vector<NegId> need_acc;
  std::size_t found_different = 0;

  std::vector<TombstoneMessage> tombstone_backlog;  // connect-time exchange, sent in chunks
  std::size_t tombstone_pos = 0;

  std::uint64_t generation = 0;
  PeerSyncStats stats;
};

struct SyncEngine::Impl {
  Impl(EventLoop& l, transport::Transport& t, store::DocumentStore& s, SyncEngineConfig c,
       SyncEngineEvents e)
      : loop(l), transport(t), store(s), config(std::move(c)), events(std::move(e)) {}

  EventLoop& loop;
  transport::Transport& transport;
  store::DocumentStore& store;
  SyncEngineConfig config;
  SyncEngineEvents events;

  bool started = false;
  store::Subscription subscription;
  store::Db states_db;
  std::map<PeerId, std::unique_ptr<Peer>> peers;
  struct Dial {
    std::vector<transport::PeerAddress> addresses;
    Duration backoff{};
    TimerId timer = 0;
  };
  std::map<PeerId, Dial> dials;
  std::deque<Digest> relay_order;
  std::set<Digest> relay_seen;
  std::uint64_t next_batch_id = 1;
  std::uint64_t generation = 0;         // connection counter (timers check they still apply)
  std::optional<PeerId> applying_from;  // set while writing data received from this peer
  TimerId resync_timer = 0;
  std::optional<SyncTopology> topology;
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);

  // ---- helpers ---------------------------------------------------------------------------
  Peer* peer_of(const PeerId& id) {
    auto it = peers.find(id);
    return it == peers.end() ? nullptr : it->second.get();
  }

  template <typename Fn>
  void post(Fn fn) {
    std::weak_ptr<bool> w = alive;
    loop.post([w, fn = std::move(fn)]() mutable {
      if (w.lock()) fn();
    });
  }
  template <typename Fn>
  TimerId after(Duration d, Fn fn) {
    std::weak_ptr<bool> w = alive;
    return loop.call_after(d, [w, fn = std::move(fn)]() mutable {
      if (w.lock()) fn();
    });
  }

  DirectionFlow flow(const PeerId& peer, PropagationDirection d) const {
    return flow_for(d, role_of(topology, peer));
  }
  DirectionFlow flow(const PeerId& peer, std::string_view key) const {
    return flow(peer, config.policies.direction(collection_of(key)));
  }
  // Enforces the direction inside an Automerge session: read_only = we neither apply nor ask
  // for the peer's changes; peer_read_only = we send no changes (only heads and have).
  // receive_message resets peer_read_only from the peer's trailer, so this runs before every
  // generate and receive.
  static void apply_flow(dsync::State& st, DirectionFlow f) {
    st.read_only = !f.receive;
    if (!f.send) st.peer_read_only = true;
  }

  void report(const PeerId& peer, const Error& e) {
    if (events.on_error) events.on_error(peer, e);
  }

  bool remember_relay(const Digest& d) {
    if (relay_seen.count(d)) return false;
    relay_seen.insert(d);
    relay_order.push_back(d);
    while (relay_order.size() > config.relay_dedup_capacity) {
      relay_seen.erase(relay_order.front());
      relay_order.pop_front();
    }
    return true;
  }

  // Whether a tombstone forbids any state for `key` (delete-wins collections). Update-wins
  // collections are left to the store, which refuses only writes not newer than the delete.
  std::optional<store::Tombstone> blocking_tombstone(std::string_view key) {
    auto t = store.base().get_tombstone(key);
    if (!t.ok() || !t->has_value()) return std::nullopt;
    auto policy = store.base().policies().get(collection_of(key));
    if (!policy.delete_wins) return std::nullopt;
    return **t;
  }

  TombstoneMessage to_message(const store::Tombstone& t) {
    TombstoneMessage m;
    m.collection = t.collection;
    m.document_id = t.document_id;
    m.deleted_at_ms = t.deleted_at;
    m.lamport = t.lamport;
    m.deleted_by = t.deleted_by;
    m.reason = t.reason;
    m.direction = config.policies.direction(t.collection);
    return m;
  }
  static store::Tombstone from_message(const TombstoneMessage& m) {
    store::Tombstone t;
    t.collection = m.collection;
    t.document_id = m.document_id;
    t.deleted_at = m.deleted_at_ms;
    t.deleted_by = m.deleted_by;
    t.lamport = m.lamport;
    t.reason = m.reason;
    return t;
  }

  // ---- queueing --------------------------------------------------------------------------
  void mark_dirty(Peer& p, const std::string& key) {
    if (p.dirty_set.count(key)) return;
    p.dirty_set.insert(key);
    p.dirty[qos_index(config.policies.qos(collection_of(key)))].push_back(key);
  }

  void push_control(const PeerId& id, Peer& p, Bytes frame, bool droppable) {
    p.control_bytes += frame.size();
    p.control.push_back({std::move(frame), droppable});
    while (p.control_bytes > config.max_control_queue_bytes) {
      auto it = std::find_if(p.control.begin(), p.control.end(),
                             [](const Peer::Control& c) { return c.droppable; });
      if (it == p.control.end()) break;
      p.control_bytes -= it->frame.size();
      p.control.erase(it);
      ++p.stats.relays_dropped;
    }
    schedule_pump(id, p);
  }

  void schedule_pump(const PeerId& id, Peer& p) {
    if (p.pump_posted) return;
    p.pump_posted = true;
    post([this, id] {
      if (Peer* q = peer_of(id)) {
        q->pump_posted = false;
        pump(id, *q);
      }
    });
  }

  Bytes frame_or_empty(std::string_view key, MessageType type, ByteView payload) {
    auto f = encode_frame(key, type, payload);
    return f.ok() ? std::move(*f) : Bytes{};
  }

  // The next frame for the peer, generated now; nullopt when there is nothing to send.
  std::optional<Bytes> next_frame(const PeerId& id, Peer& p) {
    if (!p.control.empty()) {
      Bytes f = std::move(p.control.front().frame);
      p.control_bytes -= f.size();
      p.control.pop_front();
      return f;
    }
    if (p.tombstone_pos < p.tombstone_backlog.size()) {
      std::size_t end =
          std::min(p.tombstone_backlog.size(), p.tombstone_pos + config.tombstones_per_frame);
      std::vector<TombstoneMessage> chunk(
          p.tombstone_backlog.begin() + static_cast<std::ptrdiff_t>(p.tombstone_pos),
          p.tombstone_backlog.begin() + static_cast<std::ptrdiff_t>(end));
      p.tombstone_pos = end;
      if (p.tombstone_pos == p.tombstone_backlog.size()) {
        p.tombstone_backlog.clear();
        p.tombstone_pos = 0;
      }
      auto payload = encode_tombstone_batch(chunk);
      if (payload.ok()) {
        return frame_or_empty(kTombstoneBatchKey, MessageType::kTombstoneBatch, *payload);
      }
    }
    for (auto& q : p.dirty) {
      while (!q.empty()) {
        std::string key = std::move(q.front());
        q.pop_front();
        p.dirty_set.erase(key);
        auto f = generate_for(id, p, key);
        if (f) return f;
      }
    }
    return std::nullopt;
  }

  void pump(const PeerId& id, Peer& p) {
    if (!transport.is_connected(id)) return;
    while (!p.blocked) {
      Bytes frame;
      if (p.stalled) {
        frame = std::move(*p.stalled);
        p.stalled.reset();
      } else {
        auto f = next_frame(id, p);
        if (!f) return;
        frame = std::move(*f);
      }
      if (frame.empty()) continue;
      Instant now = loop.now();
      if (!p.bucket.try_take(frame.size(), now)) {
        Duration wait = p.bucket.wait_for(frame.size(), now);
        p.stalled = std::move(frame);
        if (p.bucket_timer == 0) {
          p.bucket_timer = after(wait, [this, id] {
            if (Peer* q = peer_of(id)) {
              q->bucket_timer = 0;
              pump(id, *q);
            }
          });
        }
        return;
      }
      Status st = transport.send(id, Channel::kSync, frame);
      if (!st.ok()) {
        if (st.error().code == "WOULD_BLOCK") {
          ++p.stats.would_block;
          p.stalled = std::move(frame);
          p.blocked = true;
        }
        return;  // NOT_CONNECTED: on_disconnected cleans up
      }
      ++p.stats.frames_sent;
      p.stats.bytes_sent += frame.size();
    }
  }

  // ---- documents -------------------------------------------------------------------------
  dsync::State& state_for(Peer& p, const PeerId& id, const std::string& key) {
    auto it = p.states.find(key);
    if (it != p.states.end()) return it->second;
    dsync::State st;
    Bytes k = state_key(id, key);
    (void)store.base().env().read([&](const store::Txn& t) -> Status {
      auto v = t.get(states_db, k);
      if (v.ok() && v->has_value()) {
        auto decoded = dsync::decode_state(**v);
        if (decoded.ok()) {
          st = std::move(*decoded);
          p.persisted[key] = st.shared_heads;
        }
      }
      return {};
    });
    return p.states.emplace(key, std::move(st)).first->second;
  }

  void persist_states(const PeerId& id, Peer& p, const std::vector<std::string>& keys) {
    std::vector<std::pair<Bytes, Bytes>> writes;
    for (const auto& key : keys) {
      auto it = p.states.find(key);
      if (it == p.states.end()) continue;
      auto pit = p.persisted.find(key);
      if (pit != p.persisted.end() && pit->second == it->second.shared_heads) continue;
      writes.emplace_back(state_key(id, key), dsync::encode_state(it->second));
      p.persisted[key] = it->second.shared_heads;
    }
    if (writes.empty()) return;
    Status st = store.base().env().write([&](store::Txn& t) -> Status {
      for (const auto& [k, v] : writes) PEAT_TRY_STATUS(t.put(states_db, k, v));
      return {};
    });
    if (!st.ok()) report(id, st.error());
  }

  void persist_all(const PeerId& id, Peer& p) {
    std::vector<std::string> keys;
    for (const auto& [k, s] : p.states) keys.push_back(k);
    persist_states(id, p, keys);
  }

  std::optional<Bytes> generate_for(const PeerId& id, Peer& p, const std::string& key) {
    if (p.declined.count(key)) return std::nullopt;
    if (store.is_evicted(key)) return std::nullopt;  // never ask for it back
    if (auto t = blocking_tombstone(key)) return std::nullopt;
    DirectionFlow f = flow(id, key);
    if (!f.any()) return std::nullopt;
    SyncMode mode = config.policies.mode(collection_of(key));
    if (mode.kind == SyncModeKind::kLatestOnly) {
      return f.send ? snapshot_for(id, p, key) : std::nullopt;
    }
    auto loaded = store.get(key);
    if (!loaded.ok()) {
      report(id, loaded.error());
      return std::nullopt;
    }
    std::optional<doc::Document> doc = std::move(*loaded);
    if (!doc) {
      // A session the peer started for a document we do not have: answer from an empty one.
      if (!p.states.count(key)) return std::nullopt;
      doc.emplace(store.actor());
    }
    dsync::State& st = state_for(p, id, key);
    apply_flow(st, f);
    auto msg = dsync::generate_sync_message(*doc, st);
    if (!msg) {
      persist_states(id, p, {key});
      return std::nullopt;
    }
    ++p.stats.deltas_sent;
    return frame_or_empty(key, MessageType::kDeltaSync, *msg);
  }

  std::optional<Bytes> snapshot_for(const PeerId& id, Peer& p, const std::string& key) {
    auto meta = store.base().meta(key);
    if (!meta.ok() || !meta->has_value()) return std::nullopt;
    Bytes version = (*meta)->version;
    auto kv = p.known_version.find(key);
    if (kv != p.known_version.end() && kv->second == version) return std::nullopt;
    auto bytes = store.base().read(key);
    if (!bytes.ok() || !bytes->has_value()) return std::nullopt;
    Bytes payload = std::move(**bytes);
    if (payload.size() > config.max_payload) {
      // snapshot || tail may be compacted below the cap.
      auto d = doc::Document::load(payload, store.actor());
      if (d.ok()) payload = d->save();
      if (payload.size() > config.max_payload) {
        report(id, make_error("MESSAGE_TOO_LARGE", "snapshot of " + key + " is " +
                                                       std::to_string(payload.size()) +
                                                       " bytes, above max_payload"));
        return std::nullopt;
      }
    }
    p.known_version[key] = std::move(version);
    ++p.stats.snapshots_sent;
    return frame_or_empty(key, MessageType::kStateSnapshot, payload);
  }

  void refuse_tombstoned(const PeerId& id, Peer& p, const store::Tombstone& t) {
    ++p.stats.dropped_tombstoned;
    TombstoneMessage m = to_message(t);
    if (!flow(id, m.direction).send) return;
    auto payload = encode_tombstone(m);
    if (payload.ok()) {
      push_control(id, p, frame_or_empty(t.key(), MessageType::kTombstone, *payload), true);
    }
  }

  // State for a key evicted here: not applied; the peer is told (once per push it makes) not to
  // send the key again on this connection.
  void decline_evicted(const PeerId& id, Peer& p, const std::string& key) {
    ++p.stats.declined_evicted;
    p.states.erase(key);
    p.known_version.erase(key);
    push_control(
        id, p,
        frame_or_empty(key, MessageType::kDeclined, encode_declined(DeclineReason::kEvicted)),
        true);
  }

  void handle_delta(const PeerId& id, Peer& p, const std::string& key, ByteView payload) {
    DirectionFlow f = flow(id, key);
    if (!f.any()) {
      ++p.stats.dropped_direction;
      return;
    }
    p.declined.erase(key);  // the peer holds the document again
    if (auto t = blocking_tombstone(key)) return refuse_tombstoned(id, p, *t);
    if (store.is_evicted(key)) return decline_evicted(id, p, key);
    auto loaded = store.get(key);
    if (!loaded.ok()) return report(id, loaded.error());
    doc::Document doc = loaded->has_value() ? std::move(**loaded) : doc::Document(store.actor());
    auto before = doc.get_heads();
    dsync::State& st = state_for(p, id, key);
    apply_flow(st, f);
    Status r = dsync::receive_sync_message(doc, st, payload);
    if (!r.ok()) {
      p.states.erase(key);
      ++p.stats.decode_errors;
      return report(id, r.error());
    }
    if (doc.get_heads() != before) {
      store::PutOptions opts;
      opts.from_peer = true;
      applying_from = id;
      Status w = store.put(key, doc, loop.unix_millis(), opts);
      applying_from.reset();
      if (!w.ok()) {
        if (w.error().code == "TOMBSTONED") {
          if (auto t = store.base().get_tombstone(key); t.ok() && t->has_value()) {
            return refuse_tombstoned(id, p, **t);
          }
        }
        if (w.error().code == "EVICTED") return decline_evicted(id, p, key);
        return report(id, w.error());
      }
      if (events.on_remote_change) events.on_remote_change(key, id);
    }
    mark_dirty(p, key);
    schedule_pump(id, p);
  }

  void handle_snapshot(const PeerId& id, Peer& p, const std::string& key, ByteView payload) {
    DirectionFlow f = flow(id, key);
    if (!f.receive) {
      ++p.stats.dropped_direction;
      return;
    }
    p.declined.erase(key);  // the peer holds the document again
    if (auto t = blocking_tombstone(key)) return refuse_tombstoned(id, p, *t);
    if (store.is_evicted(key)) return decline_evicted(id, p, key);
    auto theirs = doc::Document::load(payload, store.actor());
    if (!theirs.ok()) {
      ++p.stats.decode_errors;
      return report(id, theirs.error());
    }
    Bytes their_version = heads_bytes(theirs->get_heads());
    auto meta = store.base().meta(key);
    if (!meta.ok()) return report(id, meta.error());
    Bytes before = meta->has_value() ? (*meta)->version : Bytes{};
    if (before != their_version) {
      applying_from = id;
      Status w = store.merge_bytes(key, payload, loop.unix_millis());
      applying_from.reset();
      if (!w.ok()) {
        if (w.error().code == "TOMBSTONED") {
          if (auto t = store.base().get_tombstone(key); t.ok() && t->has_value()) {
            return refuse_tombstoned(id, p, **t);
          }
        }
        if (w.error().code == "EVICTED") return decline_evicted(id, p, key);
        return report(id, w.error());
      }
    }
    p.known_version[key] = their_version;
    auto after = store.base().meta(key);
    Bytes now_version = (after.ok() && after->has_value()) ? (*after)->version : Bytes{};
    if (now_version != before && events.on_remote_change) events.on_remote_change(key, id);
    if (now_version != their_version && f.send) {
      mark_dirty(p, key);  // we hold more than the peer: send the merged state back
      schedule_pump(id, p);
    }
  }

  // ---- tombstones --------------------------------------------------------------------------
  // Applies a tombstone from a peer; true when it changed anything here.
  bool apply_tombstone(const PeerId& id, Peer& p, const TombstoneMessage& m) {
    if (!flow(id, m.direction).receive) {
      ++p.stats.dropped_direction;
      return false;
    }
    applying_from = id;
    auto r = store.base().apply_tombstone(from_message(m));
    applying_from.reset();
    if (!r.ok()) {
      report(id, r.error());
      return false;
    }
    if (*r) ++p.stats.tombstones_applied;
    return *r;
  }

  // A SyncBatch entry carrying one tombstone (key "collection:id").
  static Frame tombstone_entry(const TombstoneMessage& t, Bytes payload) {
    return Frame{t.collection + ":" + t.document_id, MessageType::kTombstone, std::move(payload)};
  }

  // Sends tombstones to every connected peer except `except` as one relayed batch.
  void relay_tombstones(const std::vector<TombstoneMessage>& ts,
                        const std::optional<PeerId>& except, std::uint8_t ttl) {
    if (ts.empty()) return;
    SyncBatch b;
    b.batch_id = next_batch_id++;
    b.created_at_ms = loop.unix_millis();
    b.ttl = ttl;
    std::vector<PropagationDirection> dirs;
    for (const auto& t : ts) {
      auto payload = encode_tombstone(t);
      if (!payload.ok()) continue;
      b.entries.push_back(tombstone_entry(t, std::move(*payload)));
      dirs.push_back(t.direction);
    }
    if (!remember_relay(batch_content_digest(b))) return;
    send_batch_to_others(b, dirs, except);
  }

  static Bytes batch_frame(const SyncBatch& b) {
    auto payload = encode_sync_batch(b);
    if (!payload.ok()) return {};
    auto f = encode_frame(kBatchKey, MessageType::kSyncBatch, *payload);
    return f.ok() ? std::move(*f) : Bytes{};
  }

  // Each peer gets the entries (tombstones of direction dirs[i]) its role allows; a peer that
  // may take all of them gets the batch as is, the others a filtered copy (its digest is
  // remembered too, so it is not taken for new content if it comes back).
  void send_batch_to_others(const SyncBatch& b, const std::vector<PropagationDirection>& dirs,
                            const std::optional<PeerId>& except) {
    Bytes whole;
    for (auto& [pid, peer] : peers) {
      if (except && pid == *except) continue;
      SyncBatch sub;
      bool all = true;
      for (std::size_t i = 0; i < b.entries.size(); ++i) {
        if (flow(pid, dirs[i]).send) {
          sub.entries.push_back(b.entries[i]);
        } else {
          all = false;
        }
      }
      if (sub.entries.empty()) continue;
      Bytes frame;
      if (all) {
        if (whole.empty()) whole = batch_frame(b);
        frame = whole;
      } else {
        sub.batch_id = b.batch_id;
        sub.created_at_ms = b.created_at_ms;
        sub.ttl = b.ttl;
        remember_relay(batch_content_digest(sub));
        frame = batch_frame(sub);
      }
      if (!frame.empty()) push_control(pid, *peer, std::move(frame), true);
    }
  }

  void handle_batch(const PeerId& id, Peer& p, const SyncBatch& b) {
    if (!remember_relay(batch_content_digest(b))) return;  // seen along another path
    SyncBatch forward;
    forward.batch_id = b.batch_id;
    forward.created_at_ms = b.created_at_ms;
    forward.ttl = b.ttl > 0 ? static_cast<std::uint8_t>(b.ttl - 1) : 0;
    std::vector<PropagationDirection> dirs;
    // Tombstones the direction lets in from this peer are applied and forwarded (also when
    // already known here: the digest stops repeats); TombstoneBatch entries (Rust) are
    // forwarded as single Tombstone entries so each can be filtered by its direction.
    auto take = [&](const TombstoneMessage& t, const Frame* as_is) {
      if (!flow(id, t.direction).receive) {
        ++p.stats.dropped_direction;
        return;
      }
      apply_tombstone(id, p, t);
      if (as_is) {
        forward.entries.push_back(*as_is);
      } else {
        auto payload = encode_tombstone(t);
        if (!payload.ok()) return;
        forward.entries.push_back(tombstone_entry(t, std::move(*payload)));
      }
      dirs.push_back(t.direction);
    };
    for (const auto& e : b.entries) {
      switch (e.type) {
        case MessageType::kDeltaSync:
          handle_delta(id, p, e.key, e.payload);
          break;
        case MessageType::kStateSnapshot:
          handle_snapshot(id, p, e.key, e.payload);
          break;
        case MessageType::kTombstone: {
          auto t = decode_tombstone(e.payload);
          if (!t.ok()) {
            report(id, t.error());
            break;
          }
          take(*t, &e);
          break;
        }
        case MessageType::kTombstoneBatch: {
          auto ts = decode_tombstone_batch(e.payload);
          if (!ts.ok()) {
            report(id, ts.error());
            break;
          }
          for (const auto& t : *ts) take(t, nullptr);
          break;
        }
        default:
          break;  // acks and windowed-history entries carry nothing to apply
      }
      if (!peer_of(id)) return;
    }
    if (b.ttl > 0 && !forward.entries.empty()) {
      remember_relay(batch_content_digest(forward));
      send_batch_to_others(forward, dirs, id);
    }
  }

  // ---- negentropy ------------------------------------------------------------------------
  // The documents offered in a round with `peer`: those its role may receive (flat mesh: all),
  // Windowed collections only within their window.
  Result<std::vector<ReconcileItem>> reconcile_items(const PeerId& peer) {
    auto items = store.base().sync_items();
    if (!items.ok()) return items.error();
    std::vector<ReconcileItem> out;
    out.reserve(items->size());
    UnixMillis now = loop.unix_millis();
    const Peer* p = peer_of(peer);
    for (auto& it : *items) {
      if (!flow(peer, it.key).send) continue;
      if (p && p->declined.count(it.key)) continue;
      SyncMode mode = config.policies.mode(collection_of(it.key));
      if (mode.kind == SyncModeKind::kWindowed) {
        auto meta = store.base().meta(it.key);
        auto window = static_cast<UnixMillis>(mode.window.count());
        if (meta.ok() && meta->has_value() && (*meta)->updated_at + window < now) continue;
      }
      out.push_back(ReconcileItem{std::move(it.key), it.timestamp, it.id});
    }
    return out;
  }

  Status start_reconcile(const PeerId& id, Peer& p) {
    auto items = reconcile_items(id);
    if (!items.ok()) return items.error();
    auto rec = Reconciler::create(std::move(*items), config.negentropy_frame_limit);
    if (!rec.ok()) return rec.error();
    auto first = rec->initiate();
    if (!first.ok()) return first.error();
    p.initiator.emplace(std::move(*rec));
    p.need_acc.clear();
    p.found_different = 0;
    send_negentropy(id, p, MessageType::kNegentropyInit, *first);
    return {};
  }

  void send_negentropy(const PeerId& id, Peer& p, MessageType type, ByteView payload) {
    Bytes f = frame_or_empty(kNegentropyKey, type, payload);
    ++p.stats.negentropy_rounds;
    p.stats.negentropy_bytes += f.size();
    push_control(id, p, std::move(f), false);
  }

  void handle_negentropy(const PeerId& id, Peer& p, const Frame& f) {
    p.stats.negentropy_bytes += kFrameHeaderSize + f.key.size() + f.payload.size();
    if (f.type == MessageType::kNegentropyInit) {
      auto items = reconcile_items(id);
      if (!items.ok()) return report(id, items.error());
      auto rec = Reconciler::create(std::move(*items), config.negentropy_frame_limit);
      if (!rec.ok()) return report(id, rec.error());
      p.responder.emplace(std::move(*rec));
      auto reply = p.responder->respond(f.payload);
      if (!reply.ok()) {
        p.responder.reset();
        ++p.stats.decode_errors;
        return report(id, reply.error());
      }
      return send_negentropy(id, p, MessageType::kNegentropyResponse, *reply);
    }
    if (f.type == MessageType::kNegentropyResponse && p.initiator) {
      auto step = p.initiator->on_reply(f.payload);
      if (!step.ok()) {
        p.initiator.reset();
        ++p.stats.decode_errors;
        return report(id, step.error());
      }
      for (const auto& key : step->have_keys) mark_dirty(p, key);
      p.found_different += step->have_keys.size() + step->need_ids.size();
      p.need_acc.insert(p.need_acc.end(), step->need_ids.begin(), step->need_ids.end());
      if (step->next) return send_negentropy(id, p, MessageType::kNegentropyContinue, *step->next);
      // Complete: tell the responder which of its documents we lack, in capped frames.
      std::size_t per_frame = std::max<std::size_t>(1, (config.max_payload - 4) / kNegIdSize);
      for (std::size_t i = 0; i < p.need_acc.size(); i += per_frame) {
        std::vector<NegId> chunk(p.need_acc.begin() + static_cast<std::ptrdiff_t>(i),
                                 p.need_acc.begin() + static_cast<std::ptrdiff_t>(std::min(
                                                          p.need_acc.size(), i + per_frame)));
        send_negentropy(id, p, MessageType::kNegentropyNeed, encode_need_list(chunk));
      }
      p.need_acc.clear();
      p.initiator.reset();
      schedule_pump(id, p);
      if (events.on_reconciled) events.on_reconciled(id, p.found_different);
      p.stats.docs_found_different += p.found_different;
      return;
    }
    // 0x11 from us, or 0x09 from a Rust initiator that has no reply pending from us.
    if ((f.type == MessageType::kNegentropyContinue ||
         f.type == MessageType::kNegentropyResponse) &&
        p.responder) {
      auto reply = p.responder->respond(f.payload);
      if (!reply.ok()) {
        p.responder.reset();
        ++p.stats.decode_errors;
        return report(id, reply.error());
      }
      return send_negentropy(id, p, MessageType::kNegentropyResponse, *reply);
    }
    if (f.type == MessageType::kNegentropyNeed && p.responder) {
      auto ids = decode_need_list(f.payload);
      if (!ids.ok()) {
        ++p.stats.decode_errors;
        return report(id, ids.error());
      }
      auto keys = p.responder->keys_for(*ids);
      for (const auto& key : keys) mark_dirty(p, key);
      p.stats.docs_found_different += keys.size();
      schedule_pump(id, p);
      return;
    }
    report(id, make_error("SYNC_PROTOCOL",
                          std::string(to_string(f.type)) + " without a negentropy session"));
  }

  // ---- frames ------------------------------------------------------------------------------
  void handle_frame(const PeerId& id, Peer& p, Frame f) {
    switch (f.type) {
      case MessageType::kDeltaSync:
        return handle_delta(id, p, f.key, f.payload);
      case MessageType::kStateSnapshot:
        return handle_snapshot(id, p, f.key, f.payload);
      case MessageType::kTombstone: {
        auto t = decode_tombstone(f.payload);
        if (!t.ok()) {
          ++p.stats.decode_errors;
          return report(id, t.error());
        }
        if (apply_tombstone(id, p, *t)) relay_tombstones({*t}, id, config.relay_ttl);
        return;
      }
      case MessageType::kTombstoneBatch: {
        auto ts = decode_tombstone_batch(f.payload);
        if (!ts.ok()) {
          ++p.stats.decode_errors;
          return report(id, ts.error());
        }
        std::vector<TombstoneMessage> fresh;
        for (const auto& t : *ts) {
          if (apply_tombstone(id, p, t)) fresh.push_back(t);
        }
        return relay_tombstones(fresh, id, config.relay_ttl);
      }
      case MessageType::kTombstoneAck:
        return;
      case MessageType::kSyncBatch: {
        auto b = decode_sync_batch(f.payload, config.max_payload);
        if (!b.ok()) {
          ++p.stats.decode_errors;
          return report(id, b.error());
        }
        return handle_batch(id, p, *b);
      }
      case MessageType::kDeclined: {
        auto r = decode_declined(f.payload);
        if (!r.ok()) {
          ++p.stats.decode_errors;
          return report(id, r.error());
        }
        ++p.stats.declined_by_peer;
        p.declined.insert(f.key);
        p.states.erase(f.key);
        p.known_version.erase(f.key);
        return;
      }
      case MessageType::kNegentropyInit:
      case MessageType::kNegentropyResponse:
      case MessageType::kNegentropyNeed:
      case MessageType::kNegentropyContinue:
        return handle_negentropy(id, p, f);
      default:
        ++p.stats.decode_errors;
        return report(id, make_error("SYNC_PROTOCOL",
                                     std::string("unexpected message type ") + to_string(f.type)));
    }
  }

  // ---- store changes -----------------------------------------------------------------------
  void on_store_change(const std::string& key, store::ChangeKind kind,
                       const std::optional<PeerId>& source) {
    if (kind == store::ChangeKind::kExpired) return;  // every node expires on its own clock
    if (kind == store::ChangeKind::kDeleted) {
      auto t = store.base().get_tombstone(key);
      if (t.ok() && t->has_value()) relay_tombstones({to_message(**t)}, source, config.relay_ttl);
      return;
    }
    for (auto& [pid, peer] : peers) {
      if (source && pid == *source) continue;
      if (!flow(pid, key).send) continue;
      mark_dirty(*peer, key);
      schedule_pump(pid, *peer);
    }
  }

  // Every tombstone the peer's role may receive.
  void queue_tombstone_backlog(const PeerId& id, Peer& p) {
    auto ts = store.base().tombstones();
    if (!ts.ok()) return;
    p.tombstone_backlog.clear();
    p.tombstone_pos = 0;
    for (const auto& t : *ts) {
      TombstoneMessage m = to_message(t);
      if (flow(id, m.direction).send) p.tombstone_backlog.push_back(std::move(m));
    }
  }

  // Like a reconnect: tombstones (unless the last backlog is still going out), then a
  // negentropy round from the initiating side (or from this side too when `either_side`).
  void resync_peer(const PeerId& id, Peer& p, bool either_side) {
    if (p.tombstone_backlog.empty()) queue_tombstone_backlog(id, p);
    if (!p.initiator && (either_side || config.node_id < id)) {
      Status st = start_reconcile(id, p);
      if (!st.ok()) report(id, st.error());
    }
    schedule_pump(id, p);
  }

  // ---- dialling ----------------------------------------------------------------------------
  void schedule_redial(const PeerId& id) {
    auto it = dials.find(id);
    if (it == dials.end() || it->second.timer != 0) return;
    Dial& d = it->second;
    Duration wait = d.backoff;
    d.backoff = std::min(config.redial_max, d.backoff * 2);
    d.timer = after(wait, [this, id] {
      auto jt = dials.find(id);
      if (jt == dials.end()) return;
      jt->second.timer = 0;
      if (!transport.is_connected(id)) transport.connect(id, jt->second.addresses);
    });
  }

  void schedule_resync() {
    if (config.resync_interval <= Duration::zero()) return;
    resync_timer = after(config.resync_interval, [this] {
      for (auto& [pid, peer] : peers) resync_peer(pid, *peer, false);
      schedule_resync();
    });
  }
};

// ---- public API ----------------------------------------------------------------------------

SyncEngine::SyncEngine(EventLoop& loop, transport::Transport& transport,
                       store::DocumentStore& store, SyncEngineConfig config,
                       SyncEngineEvents events)
    : impl_(std::make_unique<Impl>(loop, transport, store, std::move(config), std::move(events))) {}

SyncEngine::~SyncEngine() {
  stop();
}

Status SyncEngine::start() {
  Impl& m = *impl_;
  if (m.started) return {};
  if (m.config.negentropy_frame_limit != 0 && m.config.negentropy_frame_limit < 4096) {
    return make_error("INVALID_ARGUMENT", "negentropy_frame_limit must be 0 or >= 4096");
  }
  if (m.config.max_payload < 4096) {
    return make_error("INVALID_ARGUMENT", "max_payload must be at least 4096 bytes");
  }
  auto db = m.store.base().env().open_db("sync_states");
  if (!db.ok()) return db.error();
  m.states_db = *db;
  m.subscription = m.store.base().subscribe("", [&m](const store::ChangeEvent& e) {
    std::optional<PeerId> source = e.from_peer ? m.applying_from : std::nullopt;
    std::string key = e.key;
    auto kind = e.kind;
    m.post([&m, key = std::move(key), kind, source] { m.on_store_change(key, kind, source); });
  });
  m.started = true;
  m.schedule_resync();
  return {};
}

void SyncEngine::stop() {
  Impl& m = *impl_;
  if (!m.started) return;
  m.started = false;
  m.subscription.cancel();
  for (auto& [pid, peer] : m.peers) {
    m.persist_all(pid, *peer);
    if (peer->bucket_timer) m.loop.cancel(peer->bucket_timer);
  }
  m.peers.clear();
  for (auto& [pid, d] : m.dials) {
    if (d.timer) m.loop.cancel(d.timer);
  }
  m.dials.clear();
  if (m.resync_timer) m.loop.cancel(m.resync_timer);
  m.resync_timer = 0;
  *m.alive = false;
  m.alive = std::make_shared<bool>(true);
}

void SyncEngine::attach_events() {
  transport::TransportEvents ev;
  ev.on_connected = [this](const PeerId& p) { on_connected(p); };
  ev.on_disconnected = [this](const PeerId& p, transport::DisconnectReason, const std::string&) {
    on_disconnected(p);
  };
  ev.on_message = [this](const PeerId& p, Channel ch, Bytes msg) {
    if (ch == Channel::kSync) on_message(p, msg);
  };
  ev.on_writable = [this](const PeerId& p) { on_writable(p); };
  impl_->transport.set_events(std::move(ev));
}

void SyncEngine::on_connected(const PeerId& id) {
  Impl& m = *impl_;
  if (!m.started) return;
  if (auto it = m.dials.find(id); it != m.dials.end()) it->second.backoff = m.config.redial_initial;
  if (Peer* old = m.peer_of(id)) {
    m.persist_all(id, *old);
    if (old->bucket_timer) m.loop.cancel(old->bucket_timer);
  }
  auto p = std::make_unique<Peer>(m.config, m.loop.now());
  Peer& peer = *p;
  peer.generation = ++m.generation;
  m.peers[id] = std::move(p);
  m.queue_tombstone_backlog(id, peer);
  if (m.config.node_id < id) {
    Status st = m.start_reconcile(id, peer);
    if (!st.ok()) m.report(id, st.error());
  } else {
    // The peer should initiate; if it has not within the fallback delay (e.g. ids configured
    // differently on the two sides), reconcile from this side.
    std::uint64_t generation = peer.generation;
    m.after(m.config.reconcile_fallback, [&m, id, generation] {
      Peer* q = m.peer_of(id);
      if (!q || q->generation != generation || q->responder || q->initiator) return;
      Status st = m.start_reconcile(id, *q);
      if (!st.ok()) m.report(id, st.error());
    });
  }
  m.schedule_pump(id, peer);
}

void SyncEngine::on_disconnected(const PeerId& id) {
  Impl& m = *impl_;
  if (!m.started) return;
  if (Peer* p = m.peer_of(id)) {
    m.persist_all(id, *p);
    if (p->bucket_timer) m.loop.cancel(p->bucket_timer);
    m.peers.erase(id);
  }
  m.schedule_redial(id);
}

void SyncEngine::on_message(const PeerId& id, ByteView message) {
  Impl& m = *impl_;
  if (!m.started) return;
  Peer* p = m.peer_of(id);
  if (!p) return;
  ++p->stats.frames_received;
  p->stats.bytes_received += message.size();
  auto f = decode_frame(message, m.config.max_payload);
  if (!f.ok()) {
    ++p->stats.decode_errors;
    return m.report(id, f.error());
  }
  m.handle_frame(id, *p, std::move(*f));
}

void SyncEngine::on_writable(const PeerId& id) {
  Impl& m = *impl_;
  if (Peer* p = m.peer_of(id)) {
    p->blocked = false;
    m.pump(id, *p);
  }
}

void SyncEngine::add_peer(const PeerId& peer, std::vector<transport::PeerAddress> addresses) {
  Impl& m = *impl_;
  auto& d = m.dials[peer];
  d.addresses = std::move(addresses);
  d.backoff = m.config.redial_initial;
  if (!m.transport.is_connected(peer)) m.transport.connect(peer, d.addresses);
}

void SyncEngine::remove_peer(const PeerId& peer) {
  Impl& m = *impl_;
  auto it = m.dials.find(peer);
  if (it == m.dials.end()) return;
  if (it->second.timer) m.loop.cancel(it->second.timer);
  m.dials.erase(it);
}

Status SyncEngine::reconcile_now(const PeerId& peer) {
  Impl& m = *impl_;
  Peer* p = m.peer_of(peer);
  if (!p) return make_error("NOT_CONNECTED", "no sync session with " + peer);
  return m.start_reconcile(peer, *p);
}

void SyncEngine::set_topology(std::optional<SyncTopology> topology) {
  Impl& m = *impl_;
  std::optional<SyncTopology> old = std::move(m.topology);
  m.topology = std::move(topology);
  for (auto& [pid, peer] : m.peers) {
    if (role_of(old, pid) == role_of(m.topology, pid)) continue;
    // Tombstones chosen under the old role are re-chosen (a partly sent backlog restarts;
    // repeats are no-ops), and the peer may not know anything changed here: start a round
    // from this side.
    peer->tombstone_backlog.clear();
    m.resync_peer(pid, *peer, true);
  }
}

const std::optional<SyncTopology>& SyncEngine::topology() const {
  return impl_->topology;
}

Result<store::DeleteResult> SyncEngine::delete_document(std::string_view key) {
  Impl& m = *impl_;
  return m.store.remove(key, m.loop.unix_millis(), m.config.node_id);
}

std::vector<PeerId> SyncEngine::peers() const {
  std::vector<PeerId> out;
  for (const auto& [pid, p] : impl_->peers) out.push_back(pid);
  return out;
}

PeerSyncStats SyncEngine::stats(const PeerId& peer) const {
  auto it = impl_->peers.find(peer);
  return it == impl_->peers.end() ? PeerSyncStats{} : it->second->stats;
}

bool SyncEngine::idle() const {
  for (const auto& [pid, p] : impl_->peers) {
    if (!p->control.empty() || !p->dirty_set.empty() || p->stalled || p->initiator ||
        p->tombstone_pos < p->tombstone_backlog.size() || p->pump_posted) {
      return false;
    }
  }
  return true;
}

}  // namespace peat::sync
