// Collection: a bytes key-value view of one collection of a DocumentStore (the Rust peat-mesh
// `Collection` trait, spec 1.2). Each value is an Automerge document "<name>:<id>" holding the
// payload in its root under "data" as a bytes scalar, so values sync like any document (a peer's
// copy arrives through DocumentStore::merge_bytes; concurrent upserts converge on one winner).
//
// Visibility: a document is part of the view only while its root "data" is a bytes scalar and it
// carries no `_deleted: true` mark. Documents without a bytes "data" (e.g. JSON documents written
// into the same collection) are invisible to get/scan/find/count and untouched by remove.
// count() does not copy payloads: it remembers, per document, the visibility of the stored
// version (CountMemo) and loads only documents written since it last looked.
// Collections come from StorageBackend::collection(); every call fails with "STORE_CLOSED" once
// the backend is closed.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "peat/common/bytes.hpp"
#include "peat/common/clock.hpp"
#include "peat/common/result.hpp"
#include "peat/store/count_memo.hpp"
#include "peat/store/doc_store.hpp"

namespace peat::store {

namespace detail {
struct BackendState;
}

class Collection {
 public:
  using Row = std::pair<std::string, Bytes>;  // (doc id, payload)

  Collection(const Collection&) = delete;
  Collection& operator=(const Collection&) = delete;
  ~Collection();

  const std::string& name() const { return name_; }

  // Creates or replaces the payload (an unchanged payload adds no change; the write still
  // refreshes the document's time and expiry). Clears a `_deleted` mark, reviving the value;
  // under a Tombstone policy a deleted id is refused with "TOMBSTONED".
  Status upsert(std::string_view id, ByteView data, UnixMillis now);
  Result<std::optional<Bytes>> get(std::string_view id) const;
  // Deletes following the collection's deletion policy (DocumentStore::remove, so the delete
  // syncs). An id that is absent or invisible is left alone: outcome kNotFound.
  Result<DeleteResult> remove(std::string_view id, UnixMillis now);
  // Visible rows in id (byte) order.
  Result<std::vector<Row>> scan() const;
  Result<std::vector<Row>> find(const std::function<bool(ByteView data)>& predicate) const;
  // Rows whose doc id starts with the prefix (the geohash must lead the id, as in Rust).
  Result<std::vector<Row>> query_geohash_prefix(std::string_view prefix) const;
  Result<std::size_t> count() const;

 private:
  friend class StorageBackend;
  Collection(std::shared_ptr<detail::BackendState> state, std::string name);

  // Calls fn(id, payload) for each visible document whose id starts with id_prefix.
  Status visit(std::string_view id_prefix,
               const std::function<void(std::string id, Bytes data)>& fn) const;

  std::shared_ptr<detail::BackendState> state_;
  std::string name_;
  mutable CountMemo visible_;  // visibility per stored version, for count()
};

}  // namespace peat::store
