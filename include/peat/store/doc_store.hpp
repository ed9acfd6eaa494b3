// DocStore: durable storage of Automerge documents as bytes, keyed "collection:doc_id", on LMDB.
//
// Each document is a compacted snapshot plus a tail of appended change chunks; reading returns
// snapshot || tail, which Document::load accepts as one sequence of chunks. A put appends only
// the new changes; when the tail grows past a threshold the configured Compactor rewrites the
// snapshot (for Automerge: load + save). Tombstones carry a Lamport value: a write whose Lamport
// value is not newer than the tombstone (an older snapshot) is refused with "TOMBSTONED", so a
// deleted document cannot be resurrected by replaying old state. TTL expiry and GC are plain
// functions of a caller-supplied `now`. Change callbacks run on the writing thread after commit.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "peat/common/bytes.hpp"
#include "peat/common/clock.hpp"
#include "peat/common/result.hpp"
#include "peat/store/lmdb_env.hpp"
#include "peat/store/policy.hpp"

namespace peat::store {

// Rewrites snapshot || tail into one compacted snapshot (same document state).
using Compactor = std::function<Result<Bytes>(ByteView all_chunks)>;

struct DocStoreOptions {
  EnvOptions env;
  // Compact when the tail exceeds either limit (and a compactor is set).
  std::size_t compact_tail_bytes = 64 * 1024;
  std::size_t compact_tail_chunks = 128;
  Compactor compactor;
  TtlConfig ttl = TtlConfig::defaults();
};

// What the store keeps about a document besides its bytes.
struct DocMeta {
  std::uint64_t lamport = 0;  // newest Lamport value written (Automerge: max op counter)
  UnixMillis updated_at = 0;  // time of the latest write (caller's clock)
  UnixMillis expires_at = 0;  // 0 = never
  std::uint64_t snapshot_bytes = 0;
  std::uint64_t tail_bytes = 0;
  std::uint32_t tail_chunks = 0;
  std::uint32_t next_seq = 0;
  bool soft_deleted = false;
  std::string geohash;  // "" = not indexed
  // Opaque version of the stored state chosen by the writer (DocumentStore: the sorted heads).
  Bytes version;
};

struct WriteInfo {
  std::uint64_t lamport = 0;  // must be > any tombstone's lamport for this key to be accepted
  UnixMillis now = 0;
  // Explicit expiry; when absent the collection's TTL (DocStoreOptions::ttl) applies, if any.
  std::optional<UnixMillis> expires_at;
  // Geohash cell to index the document under (unchanged when absent; "" removes it).
  std::optional<std::string> geohash;
  // New version of the document (unchanged when absent); at most 4096 bytes.
  std::optional<Bytes> version;
  // Marks the change event as coming from a peer.
  bool from_peer = false;
  // New value of the local soft-deleted flag (unchanged when absent). The document layer passes
  // the document's synced `_deleted` mark, so a later write that drops the mark revives it.
  std::optional<bool> soft_deleted;
};

// One entry per document for set reconciliation (negentropy): identical document states give
// identical items on every peer. timestamp = Lamport value, id = SHA-256(key || 0x00 || version).
struct SyncItem {
  std::string key;
  std::uint64_t timestamp = 0;
  std::array<std::uint8_t, 32> id{};
};

struct Tombstone {
  std::string collection;
  std::string document_id;
  UnixMillis deleted_at = 0;
  std::string deleted_by;
  std::uint64_t lamport = 0;
  std::optional<std::string> reason;
  bool operator==(const Tombstone&) const = default;

  std::string key() const { return collection + ":" + document_id; }
  // The Rust crate's JSON form ({"document_id", "collection", "deleted_at": {secs, nanos}, ...}).
  std::string to_json() const;
  static Result<Tombstone> from_json(std::string_view json);
};

enum class DeleteOutcome : std::uint8_t {
  kTombstoned,   // document removed, tombstone written
  kSoftDeleted,  // document kept, marked deleted
  kImmutable,    // policy forbids deletion
  kTtlManaged,   // ImplicitTTL collection: deletion happens by expiry
  kNotFound,
};

struct DeleteResult {
  DeleteOutcome outcome = DeleteOutcome::kNotFound;
  std::optional<UnixMillis> tombstone_expires_at;
};

enum class ChangeKind : std::uint8_t { kPut, kDeleted, kSoftDeleted, kExpired };

struct ChangeEvent {
  std::string key;
  ChangeKind kind = ChangeKind::kPut;
  // The write came from a peer (WriteInfo::from_peer), so a sync layer need not echo it back.
  bool from_peer = false;
};

// Keeps a subscription alive; destroying it (or calling cancel) stops the callbacks.
class Subscription {
 public:
  Subscription() = default;
  explicit Subscription(std::function<void()> cancel) : cancel_(std::move(cancel)) {}
  Subscription(Subscription&& o) noexcept : cancel_(std::move(o.cancel_)) { o.cancel_ = nullptr; }
  Subscription& operator=(Subscription&& o) noexcept {
    if (this != &o) {
      cancel();
      cancel_ = std::move(o.cancel_);
      o.cancel_ = nullptr;
    }
    return *this;
  }
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;
  ~Subscription() { cancel(); }
  void cancel() {
    if (cancel_) {
      auto c = std::move(cancel_);
      cancel_ = nullptr;
      c();
    }
  }

 private:
  std::function<void()> cancel_;
};

struct GcStats {
  std::size_t tombstones_removed = 0;
  std::size_t documents_removed = 0;
};

class DocStore {
 public:
  static Result<std::unique_ptr<DocStore>> open(const std::string& dir,
                                                DocStoreOptions options = {});
  ~DocStore();
  DocStore(const DocStore&) = delete;
  DocStore& operator=(const DocStore&) = delete;

  // Splits "collection:doc_id" (first ':'); "INVALID_KEY" if either part is empty, the key
  // contains a NUL byte or is longer than 400 bytes.
  static Result<std::pair<std::string, std::string>> split_key(std::string_view key);

  // ---- writes -----------------------------------------------------------------------------
  // Appends change chunks to the document (creating it). Compacts when the tail is large.
  Status append(std::string_view key, ByteView chunks, const WriteInfo& info);
  // Replaces the document by a snapshot (drops the tail).
  Status replace(std::string_view key, ByteView snapshot, const WriteInfo& info);
  // Hard delete without tombstone (no policy); returns whether it existed.
  Result<bool> remove(std::string_view key);
  // Deletes following the collection's policy. The tombstone's Lamport value is the larger of
  // `lamport` and the document's own.
  Result<DeleteResult> delete_document(std::string_view key, UnixMillis now,
                                       std::string_view deleted_by, std::uint64_t lamport = 0,
                                       std::optional<std::string> reason = std::nullopt);
  // Stores a tombstone received from a peer. Newer tombstones replace older ones; the document
  // is removed unless the policy lets a newer write win (delete_wins = false) and the document's
  // Lamport value is newer. Returns whether anything changed.
  Result<bool> apply_tombstone(const Tombstone& tombstone);
  // Compacts now (needs a compactor). Returns (bytes before, bytes after).
  Result<std::pair<std::uint64_t, std::uint64_t>> compact(std::string_view key);

  // Several writes in one transaction (one fsync): all commit or none. Inside fn, writes see
  // each other. fn may run more than once (map growth), so it must only use the Batch.
 private:
  struct Impl;

 public:
  class Batch {
   public:
    Status append(std::string_view key, ByteView chunks, const WriteInfo& info);
    Status replace(std::string_view key, ByteView snapshot, const WriteInfo& info);
    // Hard delete without tombstone (as DocStore::remove); returns whether it existed. The
    // kDeleted event is sent after the commit.
    Result<bool> remove(std::string_view key);
    Result<std::optional<DocMeta>> meta(std::string_view key) const;
    Result<std::optional<Bytes>> read(std::string_view key) const;
    // The batch's transaction, for records the caller keeps in its own sub-databases of env()
    // (e.g. DocumentStore's eviction marks) so they commit together with the documents.
    Txn& txn() const { return *txn_; }

   private:
    friend class DocStore;
    Batch(Impl* impl, Txn* txn, std::vector<ChangeEvent>* events)
        : impl_(impl), txn_(txn), events_(events) {}
    Impl* impl_;
    Txn* txn_;
    std::vector<ChangeEvent>* events_;
  };
  Status batch(const std::function<Status(Batch&)>& fn);

  // ---- reads ------------------------------------------------------------------------------
  // snapshot || tail, or nullopt when absent (soft-deleted documents are still returned).
  Result<std::optional<Bytes>> read(std::string_view key) const;
  Result<std::optional<DocMeta>> meta(std::string_view key) const;
  bool contains(std::string_view key) const;
  // Keys with the prefix, in byte order; soft-deleted ones only when include_deleted.
  Result<std::vector<std::string>> scan_prefix(std::string_view prefix,
                                               bool include_deleted = false) const;
  Result<std::vector<std::string>> list(std::string_view collection,
                                        bool include_deleted = false) const;
  // (key, metadata) of the keys with the prefix, in byte order, from one read transaction.
  Result<std::vector<std::pair<std::string, DocMeta>>> scan_meta(
      std::string_view prefix, bool include_deleted = false) const;
  Result<std::size_t> count() const;
  Result<std::vector<std::string>> list_collections() const;
  // Reconciliation items of every stored document whose key has the prefix, soft-deleted ones
  // included (their `_deleted` edit must reach peers); tombstoned documents are gone.
  Result<std::vector<SyncItem>> sync_items(std::string_view prefix = {}) const;

  // ---- tombstones ---------------------------------------------------------------------------
  Result<std::optional<Tombstone>> get_tombstone(std::string_view key) const;
  Result<std::vector<Tombstone>> tombstones(std::string_view collection = {}) const;
  Result<bool> remove_tombstone(std::string_view key);

  // ---- TTL, GC ------------------------------------------------------------------------------
  // Sets (or with 0 clears) the expiry of a document; replaces any earlier expiry.
  Status set_expiry(std::string_view key, UnixMillis expires_at);
  // Removes documents whose expiry is <= now. Returns their keys.
  Result<std::vector<std::string>> expire(UnixMillis now);
  // Drops tombstones older than their collection's tombstone TTL, and documents of ImplicitTTL
  // collections not written for longer than the TTL. Bounded per call by `batch`.
  Result<GcStats> gc(UnixMillis now, std::size_t batch = 1000);

  // ---- geohash index ----------------------------------------------------------------------
  // Documents indexed exactly in `cell`, or (prefix) in any cell starting with it.
  Result<std::vector<std::string>> find_in_cell(std::string_view cell) const;
  Result<std::vector<std::string>> find_by_geohash_prefix(std::string_view prefix) const;
  // Documents in any of the cells (sorted, unique). "Near" = a cell plus its 8 neighbours, e.g.
  // from peat::beacon::geohash::neighbors (the store does not depend on the beacon module).
  Result<std::vector<std::string>> find_in_cells(const std::vector<std::string>& cells) const;

  // ---- change subscriptions -----------------------------------------------------------------
  // fn(event) for every change of a key starting with `prefix`, after commit, on the writer's
  // thread. Keep callbacks short; they must not write to this store.
  Subscription subscribe(std::string prefix, std::function<void(const ChangeEvent&)> fn);

  DeletionPolicyRegistry& policies();
  // Checks that metadata, tails and indexes agree ("STORE_INCONSISTENT" with details).
  Status check_consistency() const;
  Env& env();

 private:
  explicit DocStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace peat::store
