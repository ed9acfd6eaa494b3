// SyncEngine: keeps a node's DocumentStore converged with its peers, over one Transport, on one
// EventLoop (all calls and callbacks on the loop thread).
//
// On connect: both sides send their tombstones (TombstoneBatch, in chunks), then the peer with
// the smaller id runs a negentropy round (multi-round, both directions) over the store's sync
// items; every document found to differ gets an Automerge sync session (FullHistory/Windowed) or
// a snapshot (LatestOnly). Local writes (store subscription) mark documents dirty for every
// connected peer; writes received from one peer are passed on to the others, so changes travel
// multi-hop along any connected graph. With a topology view (set_topology) each collection's
// PropagationDirection limits this to the parent (UpOnly) or the children (DownOnly).
// Deletions travel as tombstones in relayed SyncBatches (de-duplicated by content digest,
// bounded ttl) and win on every path: deltas, snapshots and batch entries for a tombstoned
// document are dropped and answered with the tombstone. Documents evicted locally
// (DocumentStore::evict) are never requested; pushes of them are answered with Declined (0x12)
// and the peer stops sending them for the rest of the connection.
//
// Flow control: per peer, outgoing work is a set of dirty documents per QoS class plus a small
// queue of control frames; messages are generated only when the peer can take them (token
// bucket in bytes/s, transport WOULD_BLOCK → wait for on_writable), so memory stays bounded by
// the number of documents, never by the traffic. Sync states persist per (peer, document) in
// the store's LMDB environment (sub-database "sync_states") so a reconnect resumes cheaply.
#pragma once

#include <array>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "peat/common/event_loop.hpp"
#include "peat/doc/sync/state.hpp"
#include "peat/store/document_store.hpp"
#include "peat/sync/reconciler.hpp"
#include "peat/sync/sync_policy.hpp"
#include "peat/sync/token_bucket.hpp"
#include "peat/sync/topology_view.hpp"
#include "peat/sync/wire.hpp"
#include "peat/transport/transport.hpp"

namespace peat::sync {

using transport::PeerId;

struct SyncEngineConfig {
  // This node's id as its peers see it (the transport PeerId). Decides the negentropy role.
  PeerId node_id;
  SyncPolicyRegistry policies;
  // Largest frame payload accepted from a peer (and produced, see max_snapshot_bytes).
  std::size_t max_payload = 1u << 20;
  // Negentropy message size limit (>= 4096); smaller = more rounds, smaller frames.
  std::uint64_t negentropy_frame_limit = 60'000;
  // Per-peer send cap in bytes/s (0 = unlimited) and its burst.
  std::uint64_t peer_bandwidth_bps = 0;
  std::uint64_t peer_burst_bytes = 256 * 1024;
  // Bytes of control frames (tombstone relays, negentropy) queued per peer; beyond it the
  // oldest relays are dropped (the connect-time tombstone exchange repairs them).
  std::size_t max_control_queue_bytes = 4u << 20;
  // Relayed tombstone batches: hops, and how many digests are remembered for de-duplication.
  std::uint8_t relay_ttl = 16;
  std::size_t relay_dedup_capacity = 8192;
  std::size_t tombstones_per_frame = 256;
  // Redial of peers added with add_peer: exponential backoff between these bounds.
  Duration redial_initial = std::chrono::milliseconds(250);
  Duration redial_max = std::chrono::seconds(4);
  // The peer with the smaller id starts the negentropy round; the other starts one itself if
  // none arrived within this delay.
  Duration reconcile_fallback = std::chrono::seconds(2);
  // Repeat the connect exchange (all tombstones, then a negentropy round) with every connected
  // peer this often (0 = only on connect). Repairs relays dropped on a full control queue.
  Duration resync_interval = Duration::zero();
};

struct PeerSyncStats {
  std::uint64_t frames_sent = 0;
  std::uint64_t frames_received = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_received = 0;
  std::uint64_t negentropy_rounds = 0;
  std::uint64_t negentropy_bytes = 0;  // both directions, frames included
  std::uint64_t docs_found_different = 0;
  std::uint64_t deltas_sent = 0;
  std::uint64_t snapshots_sent = 0;
  std::uint64_t tombstones_applied = 0;
  std::uint64_t dropped_tombstoned = 0;  // incoming state refused because of a tombstone
  std::uint64_t dropped_direction = 0;   // incoming state/tombstones the direction forbids
  std::uint64_t declined_by_peer = 0;    // Declined frames received (the peer evicted the key)
  std::uint64_t declined_evicted = 0;    // incoming state for a key evicted here (answered
                                         // with Declined, not applied, not an error)
  std::uint64_t relays_dropped = 0;      // control frames dropped on a full queue
  std::uint64_t would_block = 0;
  std::uint64_t decode_errors = 0;
};

struct SyncEngineEvents {
  // A negentropy round with the peer finished (keys found different on either side).
  std::function<void(const PeerId&, std::size_t differing)> on_reconciled;
  // A document changed because of data from the peer.
  std::function<void(const std::string& key, const PeerId&)> on_remote_change;
  // A frame from the peer was rejected (decode or apply error); the connection stays up.
  std::function<void(const PeerId&, const Error&)> on_error;
};

class SyncEngine {
 public:
  // The store and transport must outlive the engine. Nothing happens before start().
  SyncEngine(EventLoop& loop, transport::Transport& transport, store::DocumentStore& store,
             SyncEngineConfig config, SyncEngineEvents events = {});
  ~SyncEngine();
  SyncEngine(const SyncEngine&) = delete;
  SyncEngine& operator=(const SyncEngine&) = delete;

  // Subscribes to the store and opens the sync-state sub-database. Does not touch the
  // transport's events: route them to the handlers below (or call attach_events()).
  Status start();
  // Persists sync states of connected peers and stops all timers. Idempotent.
  void stop();
  // Installs on_connected/on_disconnected/on_message(kSync)/on_writable on the transport,
  // for owners that give the transport to the engine alone.
  void attach_events();

  // Transport events (call on the loop thread).
  void on_connected(const PeerId& peer);
  void on_disconnected(const PeerId& peer);
  void on_message(const PeerId& peer, ByteView message);
  void on_writable(const PeerId& peer);

  // Keeps the peer dialled: connects now and redials with backoff whenever it drops.
  void add_peer(const PeerId& peer, std::vector<transport::PeerAddress> addresses = {});
  void remove_peer(const PeerId& peer);

  // Starts a new negentropy round with a connected peer (normally automatic on connect).
  Status reconcile_now(const PeerId& peer);

  // This node's parent and children (from peat::topology). With a view, each collection's
  // PropagationDirection decides what goes to and is accepted from each peer (see
  // topology_view.hpp; documents and tombstones alike); nullopt = flat mesh (everything flows
  // everywhere). Peers whose role changed get the connect exchange again (tombstones, then a
  // negentropy round), so data the new role allows flows at once.
  void set_topology(std::optional<SyncTopology> topology);
  const std::optional<SyncTopology>& topology() const;

  // Deletes a document following its collection's policy and propagates the tombstone.
  Result<store::DeleteResult> delete_document(std::string_view key);

  std::vector<PeerId> peers() const;
  PeerSyncStats stats(const PeerId& peer) const;
  // Nothing queued or in flight for any peer (tests use it to detect quiescence).
  bool idle() const;

 private:
  struct Peer;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace peat::sync
