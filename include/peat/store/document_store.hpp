// DocumentStore: Automerge documents (peat::doc::Document) in collections, on a DocStore.
// A put appends only the changes the stored copy lacks (found from the stored heads, kept as the
// record's version), so writing a large document costs O(new changes), not a full rewrite; the
// tail is compacted into a fresh save() past a threshold. Putting a document that does not
// contain everything stored merges the two (a put never loses stored changes). The Lamport value
// of a document is its largest op counter, so a tombstone refuses any copy of the document that
// has no op newer than the delete (an older snapshot cannot resurrect it).
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "peat/doc/document.hpp"
#include "peat/store/doc_store.hpp"
#include "peat/store/query.hpp"

namespace peat::store {

struct PutOptions {
  std::optional<std::string> geohash;    // index the document under this cell
  std::optional<UnixMillis> expires_at;  // else the collection TTL, if any
  bool from_peer = false;                // reported in the change event
};

class DocumentStore {
 public:
  // `actor` is this node's Automerge actor id: documents read from the store carry it, so
  // edits made to them (and put_json writes) are attributed to this node.
  static Result<std::unique_ptr<DocumentStore>> open(const std::string& dir, doc::ActorId actor,
                                                     DocStoreOptions options = {});

  // Persists the document (committing its open transaction first). "TOMBSTONED" when a
  // tombstone covers it. A local put (from_peer false) clears an eviction mark on the key; a put
  // from a peer to an evicted key is refused with "EVICTED".
  Status put(std::string_view key, doc::Document& doc, UnixMillis now,
             const PutOptions& options = {});
  // Persists several documents in one transaction (one fsync). Per-document results, in order:
  // a document a tombstone covers gets "TOMBSTONED" while the others are stored; any other
  // error aborts the whole batch and is returned instead. These are local writes: stored keys
  // lose their eviction marks.
  Result<std::vector<Status>> put_many(
      const std::vector<std::pair<std::string, doc::Document*>>& docs, UnixMillis now);
  // Applies chunks from a peer (a saved document or change chunks) to the stored document, or
  // stores them as a new document. The change event is marked from_peer. Refused with "EVICTED"
  // for an evicted key (this is the peer path, so sync cannot bring an evicted document back).
  Status merge_bytes(std::string_view key, ByteView chunks, UnixMillis now,
                     const PutOptions& options = {});
  Result<std::optional<doc::Document>> get(std::string_view key) const;

  // Loads the stored document (or a new one carrying this store's actor), applies `edit`, and
  // puts it, all under the store's write lock, so concurrent read-modify-writes of one key never
  // reuse this actor's sequence number. An error from `edit` is returned and nothing is written.
  // `edit` runs on the caller's thread under that lock: it must not call this store's writers.
  // Eviction marks are handled as in put.
  Status update(std::string_view key, const std::function<Status(doc::Document&)>& edit,
                UnixMillis now, const PutOptions& options = {});

  // JSON in and out (rules in json_convert.hpp). put_json edits the stored document in place
  // (through update); eviction marks are handled as in put.
  Status put_json(std::string_view key, const nlohmann::json& json, UnixMillis now,
                  const PutOptions& options = {});
  Result<std::optional<nlohmann::json>> get_json(std::string_view key) const;

  // Deletes following the collection's policy; soft deletes also set `_deleted: true` in the
  // document, so the deletion syncs like any edit. The store's local soft-deleted flag (which
  // list/query/scan_prefix honour) follows that synced mark on every write: a later write
  // without `_deleted` (local or merged from a peer) revives the document, and a peer's
  // `_deleted: true` hides it here too.
  Result<DeleteResult> remove(std::string_view key, UnixMillis now, std::string_view deleted_by,
                              std::optional<std::string> reason = std::nullopt);

  // (doc id, document) of every live document of the query's collection that matches.
  Result<std::vector<std::pair<std::string, doc::Document>>> query(const Query& q) const;
  Result<std::vector<std::pair<std::string, nlohmann::json>>> query_json(const Query& q) const;
  Result<std::size_t> query_count(const Query& q) const;

  // Key listings and subscriptions (same as on base()).
  Result<std::vector<std::string>> list(std::string_view collection) const {
    return base_->list(collection);
  }
  Result<std::vector<std::string>> scan_prefix(std::string_view prefix) const {
    return base_->scan_prefix(prefix);
  }
  Result<std::size_t> count() const { return base_->count(); }
  Result<std::vector<std::string>> list_collections() const { return base_->list_collections(); }
  Subscription subscribe(std::string prefix, std::function<void(const ChangeEvent&)> fn) {
    return base_->subscribe(std::move(prefix), std::move(fn));
  }

  // Bytes stored for the document (snapshot + tail); "NOT_FOUND" when absent. This is the
  // per-key size used for storage accounting (peat::qos::StorageGuard).
  Result<std::uint64_t> stored_size(std::string_view key) const;

  // ---- local eviction (storage pressure / retention; peat::qos) -----------------------------
  // Removes the document locally without a tombstone (storage pressure / retention): it is not
  // deleted mesh-wide. The key is remembered as evicted so sync does not fetch it back; a later
  // local put/put_json/merge from a local writer clears the mark. Returns false if absent.
  // The mark is kept in the "evicted_keys" sub-database (survives restart) and written in the
  // same transaction as the removal; the document leaves sync_items() with its removal. The
  // change event is kDeleted with no tombstone, which the sync engine does not relay.
  Result<bool> evict(std::string_view key, UnixMillis now);
  // Evicts several keys in one transaction (one fsync with durable = true): all or none.
  // Absent keys are skipped (no mark); returns how many documents were evicted. An invalid key
  // fails the whole call with "INVALID_KEY" before anything is written.
  Result<std::size_t> evict_many(const std::vector<std::string>& keys, UnixMillis now);
  bool is_evicted(std::string_view key) const;
  // Evicted keys in byte order.
  std::vector<std::string> evicted_keys() const;
  // Forgets an eviction mark (an operator wants the document synced again); returns whether
  // there was one.
  Result<bool> clear_evicted(std::string_view key);

  DocStore& base() { return *base_; }
  const DocStore& base() const { return *base_; }
  const doc::ActorId& actor() const { return actor_; }

 private:
  DocumentStore(std::unique_ptr<DocStore> base, doc::ActorId actor, Db evicted_db,
                std::set<std::string, std::less<>> evicted)
      : base_(std::move(base)),
        actor_(std::move(actor)),
        evicted_db_(evicted_db),
        evicted_(std::move(evicted)) {}
  // "EVICTED" when a peer write targets an evicted key.
  Status refuse_if_evicted(std::string_view key, const PutOptions& options) const;
  // After a successful local write: drops the key's eviction mark, if any.
  Status clear_mark_after_local_write(std::string_view key, const PutOptions& options);
  // follow_mark: the local soft-deleted flag takes the document's `_deleted` mark (remove
  // passes false: delete_document sets the flag and sends the kSoftDeleted event).
  Status put_locked(std::string_view key, doc::Document& doc, UnixMillis now,
                    const PutOptions& options, bool follow_mark = true);
  Status put_in(DocStore::Batch& batch, std::string_view key, doc::Document& doc, UnixMillis now,
                const PutOptions& options, bool follow_mark = true);

  std::unique_ptr<DocStore> base_;
  doc::ActorId actor_;
  std::mutex mu_;  // serialises read-modify-write of documents
  Db evicted_db_;
  mutable std::mutex evicted_mu_;  // guards evicted_ (the in-memory copy of evicted_db_)
  std::set<std::string, std::less<>> evicted_;
};

}  // namespace peat::store
