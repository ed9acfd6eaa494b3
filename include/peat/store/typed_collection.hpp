// TypedCollection<T>: the documents of one collection as values of a C++ type. T converts to and
// from nlohmann::json through ADL to_json/from_json (e.g. NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE);
// each value is stored with DocumentStore::put_json at "<name>:<id>" (json_convert rules: root
// keys merge, nested objects are replaced per root key), so it syncs like any document.
//
// Visibility: a document carrying the soft-delete mark `_deleted: true` is absent from every
// read. The mark is an ordinary edit, so a delete made by a peer hides the document here too,
// and a later put (whose JSON lacks `_deleted`) removes the mark and revives the document
// (under a Tombstone policy the put is refused with "TOMBSTONED" instead). Documents whose JSON
// does not convert to T are skipped by scan()/find() and counted in TypedRows::skipped; get()
// reports them as "DESERIALIZE_FAILED". Nothing here throws.
#pragma once

#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "peat/store/count_memo.hpp"
#include "peat/store/document_store.hpp"
#include "peat/store/json_convert.hpp"
#include "peat/store/query.hpp"

namespace peat::store {

template <typename T>
struct TypedRows {
  std::vector<std::pair<std::string, T>> items;  // (doc id, value), in query order
  std::size_t skipped = 0;                       // documents that failed to convert to T
};

struct TypedCollectionOptions {
  // Expiry of every put (now + ttl). When absent the store's per-collection TTL applies, if any.
  std::optional<std::chrono::milliseconds> ttl;
};

template <typename T>
class TypedCollection {
 public:
  // The store must outlive the collection. `name` must not contain ':'.
  TypedCollection(DocumentStore& store, std::string name, TypedCollectionOptions options = {})
      : store_(&store), name_(std::move(name)), options_(options) {}

  const std::string& name() const { return name_; }

  Status put(std::string_view id, const T& value, UnixMillis now) {
    PEAT_TRY_STATUS(check_name());
    nlohmann::json j;
    try {
      j = value;
    } catch (const std::exception& e) {
      return make_error("SERIALIZE_FAILED", name_ + ": " + e.what());
    }
    PutOptions o;
    if (options_.ttl) o.expires_at = now + static_cast<UnixMillis>(options_.ttl->count());
    return store_->put_json(key(id), j, now, o);
  }

  Result<std::optional<T>> get(std::string_view id) const {
    auto j = get_json(id);
    if (!j.ok()) return j.error();
    if (!j->has_value()) return std::optional<T>{};
    auto v = convert(**j);
    if (!v) {
      return make_error("DESERIALIZE_FAILED",
                        key(id) + " does not convert to the collection's type");
    }
    return std::optional<T>{std::move(*v)};
  }

  Result<std::optional<nlohmann::json>> get_json(std::string_view id) const {
    PEAT_TRY_STATUS(check_name());
    auto d = store_->get(key(id));
    if (!d.ok()) return d.error();
    if (!d->has_value() || marked_deleted(**d)) return std::optional<nlohmann::json>{};
    return std::optional<nlohmann::json>{document_to_json(**d)};
  }

  // Deletes following the collection's deletion policy (DocumentStore::remove).
  Result<DeleteResult> remove(std::string_view id, UnixMillis now, std::string_view deleted_by,
                              std::optional<std::string> reason = std::nullopt) {
    PEAT_TRY_STATUS(check_name());
    return store_->remove(key(id), now, deleted_by, std::move(reason));
  }

  Result<TypedRows<T>> scan() const { return find(query()); }

  Result<std::vector<std::pair<std::string, nlohmann::json>>> scan_json() const {
    auto rows = live(nullptr);
    if (!rows.ok()) return rows.error();
    std::vector<std::pair<std::string, nlohmann::json>> out;
    out.reserve(rows->size());
    for (auto& [id, d] : *rows) out.emplace_back(std::move(id), document_to_json(d));
    return out;
  }

  // Live (unmarked) documents of the collection, whether or not they convert to T. Loads only
  // documents written since the previous count or scan (CountMemo), without JSON conversion.
  Result<std::size_t> count() const {
    PEAT_TRY_STATUS(check_name());
    return live_->count(*store_, prefix());
  }

  // A query over this collection (the Query builder of query.hpp); run it with find().
  Query query() const { return Query(name_); }

  // Matching live documents as T, after the query's order, offset and limit. The query must be
  // over this collection ("INVALID_ARGUMENT" otherwise). Offset and limit count documents
  // before conversion, so a page may hold fewer items when some are skipped.
  Result<TypedRows<T>> find(const Query& q) const {
    if (q.collection() != name_) {
      return make_error("INVALID_ARGUMENT",
                        "query over '" + q.collection() + "' run on collection '" + name_ + "'");
    }
    auto rows = live(&q);
    if (!rows.ok()) return rows.error();
    TypedRows<T> out;
    for (auto& [id, d] : *rows) {
      auto v = convert(document_to_json(d));
      if (v) {
        out.items.emplace_back(std::move(id), std::move(*v));
      } else {
        ++out.skipped;
      }
    }
    return out;
  }

  // fn(doc id, event) after each committed change of a document of this collection (local
  // puts and deletes, and merges from peers: event.from_peer), on the writer's thread.
  Subscription subscribe(std::function<void(const std::string& id, const ChangeEvent& event)> fn) {
    const std::size_t skip = name_.size() + 1;
    return store_->subscribe(
        prefix(), [skip, fn = std::move(fn)](const ChangeEvent& e) { fn(e.key.substr(skip), e); });
  }

 private:
  Status check_name() const {
    if (name_.empty() || name_.find(':') != std::string::npos) {
      return make_error("INVALID_ARGUMENT", "collection name '" + name_ + "' is empty or has ':'");
    }
    return {};
  }
  std::string prefix() const { return name_ + ":"; }
  std::string key(std::string_view id) const { return prefix() + std::string(id); }

  static std::optional<T> convert(const nlohmann::json& j) {
    try {
      return j.get<T>();
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }

  // (doc id, document) of every unmarked document, filtered and ordered by q when given. The
  // store's local soft-deleted flag is ignored: the synced mark decides (see the file comment).
  Result<std::vector<std::pair<std::string, doc::Document>>> live(const Query* q) const {
    PEAT_TRY_STATUS(check_name());
    auto metas = store_->base().scan_meta(prefix(), true);
    if (!metas.ok()) return metas.error();
    std::vector<std::pair<std::string, doc::Document>> rows;
    const std::size_t skip = name_.size() + 1;
    for (const auto& [k, meta] : *metas) {
      auto d = store_->get(k);
      if (!d.ok()) return d.error();
      if (!d->has_value()) continue;
      const bool is_live = !marked_deleted(**d);
      live_->remember(k, meta, is_live);
      if (!is_live) continue;
      std::string id = k.substr(skip);
      if (q && !q->matches(id, **d)) continue;
      rows.emplace_back(std::move(id), std::move(**d));
    }
    if (q) q->finish(rows);
    return rows;
  }

  DocumentStore* store_;
  std::string name_;
  TypedCollectionOptions options_;
  // Liveness per stored version, shared by copies of this collection.
  std::shared_ptr<CountMemo> live_ =
      std::make_shared<CountMemo>([](const doc::Document& d) { return !marked_deleted(d); });
};

}  // namespace peat::store
