#include "peat/store/document_store.hpp"

#include <algorithm>

#include "peat/store/json_convert.hpp"

namespace peat::store {

namespace {

Bytes heads_bytes(const std::vector<doc::ChangeHash>& heads) {
  Bytes out;
  out.reserve(heads.size() * 32);
  for (const auto& h : heads) out.insert(out.end(), h.begin(), h.end());
  return out;
}

std::vector<doc::ChangeHash> parse_heads(const Bytes& version) {
  std::vector<doc::ChangeHash> out;
  for (std::size_t i = 0; i + 32 <= version.size(); i += 32) {
    doc::ChangeHash h;
    std::copy_n(version.begin() + static_cast<std::ptrdiff_t>(i), 32, h.begin());
    out.push_back(h);
  }
  return out;
}

constexpr std::string_view kEvictedDb = "evicted_keys";

ByteView as_key(std::string_view key) {
  return {reinterpret_cast<const std::uint8_t*>(key.data()), key.size()};
}

Bytes concat(const std::vector<Bytes>& chunks) {
  Bytes out;
  for (const Bytes& c : chunks) out.insert(out.end(), c.begin(), c.end());
  return out;
}

}  // namespace

Result<std::unique_ptr<DocumentStore>> DocumentStore::open(const std::string& dir,
                                                           doc::ActorId actor,
                                                           DocStoreOptions options) {
  if (!options.compactor) {
    options.compactor = [actor](ByteView all) -> Result<Bytes> {
      auto d = doc::Document::load(all, actor);
      if (!d.ok()) return d.error();
      return d->save();
    };
  }
  auto base = DocStore::open(dir, std::move(options));
  if (!base.ok()) return base.error();
  auto db = (*base)->env().open_db(kEvictedDb);
  if (!db.ok()) return db.error();
  std::set<std::string, std::less<>> evicted;
  Status st = (*base)->env().read([&](const Txn& t) {
    return t.scan_prefix(*db, {}, [&](ByteView k, ByteView) {
      evicted.emplace(reinterpret_cast<const char*>(k.data()), k.size());
      return true;
    });
  });
  if (!st.ok()) return st.error();
  return std::unique_ptr<DocumentStore>(
      new DocumentStore(std::move(*base), std::move(actor), *db, std::move(evicted)));
}

Status DocumentStore::refuse_if_evicted(std::string_view key, const PutOptions& options) const {
  if (options.from_peer && is_evicted(key)) {
    return make_error("EVICTED", std::string(key) +
                                     " was evicted locally (storage pressure); peer copies are "
                                     "refused until a local write");
  }
  return {};
}

Status DocumentStore::clear_mark_after_local_write(std::string_view key,
                                                   const PutOptions& options) {
  if (options.from_peer || !is_evicted(key)) return {};
  auto r = clear_evicted(key);
  if (!r.ok()) return r.error();
  return {};
}

Result<bool> DocumentStore::evict(std::string_view key, UnixMillis now) {
  auto n = evict_many({std::string(key)}, now);
  if (!n.ok()) return n.error();
  return *n > 0;
}

Result<std::size_t> DocumentStore::evict_many(const std::vector<std::string>& keys,
                                              UnixMillis now) {
  for (const std::string& key : keys) PEAT_TRY_STATUS(DocStore::split_key(key));
  Bytes when(8);
  for (int i = 0; i < 8; ++i)
    when[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(now >> (56 - 8 * i));
  std::lock_guard lock(mu_);
  std::size_t evicted = 0;
  std::vector<std::string> newly_marked;  // in-memory marks added here, undone on failure
  // Mark and removal share the transaction: sync never sees the key absent and unmarked. The
  // in-memory mark is set before the commit, so it is there when the kDeleted events run.
  Status st = base_->batch([&](DocStore::Batch& batch) -> Status {
    evicted = 0;  // the function runs again if the map had to grow
    for (const std::string& key : keys) {
      auto removed = batch.remove(key);
      if (!removed.ok()) return removed.error();
      if (!*removed) continue;
      PEAT_TRY_STATUS(batch.txn().put(evicted_db_, as_key(key), when));
      ++evicted;
      std::lock_guard elock(evicted_mu_);
      if (evicted_.insert(key).second) newly_marked.push_back(key);
    }
    return {};
  });
  if (!st.ok()) {
    std::lock_guard elock(evicted_mu_);
    for (const std::string& key : newly_marked) evicted_.erase(key);
    return st.error();
  }
  return evicted;
}

bool DocumentStore::is_evicted(std::string_view key) const {
  std::lock_guard lock(evicted_mu_);
  return evicted_.find(key) != evicted_.end();
}

std::vector<std::string> DocumentStore::evicted_keys() const {
  std::lock_guard lock(evicted_mu_);
  return {evicted_.begin(), evicted_.end()};
}

Result<bool> DocumentStore::clear_evicted(std::string_view key) {
  bool existed = false;
  PEAT_TRY_STATUS(base_->env().write([&](Txn& t) -> Status {
    auto r = t.del(evicted_db_, as_key(key));
    if (!r.ok()) return r.error();
    existed = *r;
    return {};
  }));
  std::lock_guard lock(evicted_mu_);
  evicted_.erase(std::string(key));
  return existed;
}

Status DocumentStore::put(std::string_view key, doc::Document& doc, UnixMillis now,
                          const PutOptions& options) {
  std::lock_guard lock(mu_);
  PEAT_TRY_STATUS(refuse_if_evicted(key, options));
  PEAT_TRY_STATUS(put_locked(key, doc, now, options));
  return clear_mark_after_local_write(key, options);
}

Status DocumentStore::put_locked(std::string_view key, doc::Document& doc, UnixMillis now,
                                 const PutOptions& options, bool follow_mark) {
  return base_->batch(
      [&](DocStore::Batch& batch) { return put_in(batch, key, doc, now, options, follow_mark); });
}

Status DocumentStore::put_in(DocStore::Batch& batch, std::string_view key, doc::Document& doc,
                             UnixMillis now, const PutOptions& options, bool follow_mark) {
  doc.commit();
  WriteInfo w;
  w.now = now;
  w.expires_at = options.expires_at;
  w.geohash = options.geohash;
  w.from_peer = options.from_peer;
  auto meta = batch.meta(key);
  if (!meta.ok()) return meta.error();
  if (!meta->has_value()) {
    if (follow_mark) w.soft_deleted = marked_deleted(doc);
    w.lamport = doc.max_op();
    w.version = heads_bytes(doc.get_heads());
    return batch.replace(key, doc.save(), w);
  }
  std::vector<doc::ChangeHash> stored_heads = parse_heads((*meta)->version);
  bool contains_stored = std::all_of(stored_heads.begin(), stored_heads.end(),
                                     [&](const doc::ChangeHash& h) { return doc.has_change(h); });
  if (contains_stored) {
    // Fast path: the new state extends the stored one; append just the difference.
    if (follow_mark) w.soft_deleted = marked_deleted(doc);
    w.lamport = doc.max_op();
    w.version = heads_bytes(doc.get_heads());
    return batch.append(key, concat(doc.get_changes(stored_heads)), w);
  }
  // The caller's document lacks stored changes: merge both so nothing stored is lost.
  auto bytes = batch.read(key);
  if (!bytes.ok()) return bytes.error();
  auto stored = doc::Document::load(**bytes, actor_);
  if (!stored.ok()) return stored.error();
  PEAT_TRY_STATUS(stored->merge(doc));
  if (follow_mark) w.soft_deleted = marked_deleted(*stored);
  w.lamport = stored->max_op();
  w.version = heads_bytes(stored->get_heads());
  return batch.append(key, concat(stored->get_changes(stored_heads)), w);
}

Result<std::vector<Status>> DocumentStore::put_many(
    const std::vector<std::pair<std::string, doc::Document*>>& docs, UnixMillis now) {
  std::lock_guard lock(mu_);
  std::vector<Status> results;
  Status st = base_->batch([&](DocStore::Batch& batch) -> Status {
    results.clear();
    for (const auto& [key, doc] : docs) {
      Status one = put_in(batch, key, *doc, now, {});
      if (!one.ok() && one.error().code != "TOMBSTONED" && one.error().code != "INVALID_KEY") {
        return one;
      }
      results.push_back(std::move(one));
    }
    return {};
  });
  if (!st.ok()) return st.error();
  for (std::size_t i = 0; i < docs.size() && i < results.size(); ++i) {
    if (results[i].ok()) PEAT_TRY_STATUS(clear_mark_after_local_write(docs[i].first, {}));
  }
  return results;
}

Status DocumentStore::merge_bytes(std::string_view key, ByteView chunks, UnixMillis now,
                                  const PutOptions& put_options) {
  PutOptions options = put_options;
  options.from_peer = true;
  std::lock_guard lock(mu_);
  PEAT_TRY_STATUS(refuse_if_evicted(key, options));
  auto bytes = base_->read(key);
  if (!bytes.ok()) return bytes.error();
  if (bytes->has_value()) {
    auto stored = doc::Document::load(**bytes, actor_);
    if (!stored.ok()) return stored.error();
    PEAT_TRY_STATUS(stored->load_incremental(chunks));
    return put_locked(key, *stored, now, options);
  }
  auto incoming = doc::Document::load(chunks, actor_);
  if (!incoming.ok()) return incoming.error();
  return put_locked(key, *incoming, now, options);
}

Result<std::optional<doc::Document>> DocumentStore::get(std::string_view key) const {
  auto bytes = base_->read(key);
  if (!bytes.ok()) return bytes.error();
  if (!bytes->has_value()) return std::optional<doc::Document>{};
  auto d = doc::Document::load(**bytes, actor_);
  if (!d.ok()) return d.error();
  return std::optional<doc::Document>{std::move(*d)};
}

Status DocumentStore::update(std::string_view key,
                             const std::function<Status(doc::Document&)>& edit, UnixMillis now,
                             const PutOptions& options) {
  PEAT_TRY_STATUS(DocStore::split_key(key));
  std::lock_guard lock(mu_);
  PEAT_TRY_STATUS(refuse_if_evicted(key, options));
  auto existing = get(key);
  if (!existing.ok()) return existing.error();
  doc::Document d = existing->has_value() ? std::move(**existing) : doc::Document(actor_);
  PEAT_TRY_STATUS(edit(d));
  PEAT_TRY_STATUS(put_locked(key, d, now, options));
  return clear_mark_after_local_write(key, options);
}

Status DocumentStore::put_json(std::string_view key, const nlohmann::json& json, UnixMillis now,
                               const PutOptions& options) {
  if (!json.is_object()) return make_error("INVALID_JSON", "document JSON must be an object");
  return update(
      key, [&](doc::Document& d) { return write_json(d, json); }, now, options);
}

Result<std::optional<nlohmann::json>> DocumentStore::get_json(std::string_view key) const {
  auto d = get(key);
  if (!d.ok()) return d.error();
  if (!d->has_value()) return std::optional<nlohmann::json>{};
  return std::optional<nlohmann::json>{document_to_json(**d)};
}

Result<DeleteResult> DocumentStore::remove(std::string_view key, UnixMillis now,
                                           std::string_view deleted_by,
                                           std::optional<std::string> reason) {
  auto parts = DocStore::split_key(key);
  if (!parts.ok()) return parts.error();
  std::lock_guard lock(mu_);
  if (base_->policies().get(parts->first).kind == DeletionKind::kSoftDelete) {
    auto d = get(key);
    if (!d.ok()) return d.error();
    if (d->has_value()) {
      PEAT_TRY_STATUS((*d)->put(doc::kRoot, std::string("_deleted"), true));
      PEAT_TRY_STATUS(put_locked(key, **d, now, {}, /*follow_mark=*/false));
    }
  }
  return base_->delete_document(key, now, deleted_by, 0, std::move(reason));
}

Result<std::vector<std::pair<std::string, doc::Document>>> DocumentStore::query(
    const Query& q) const {
  auto keys = base_->list(q.collection());
  if (!keys.ok()) return keys.error();
  std::vector<std::pair<std::string, doc::Document>> rows;
  const std::size_t skip = q.collection().size() + 1;
  for (const std::string& key : *keys) {
    auto d = get(key);
    if (!d.ok()) return d.error();
    if (!d->has_value()) continue;
    std::string id = key.substr(skip);
    if (q.matches(id, **d)) rows.emplace_back(std::move(id), std::move(**d));
  }
  q.finish(rows);
  return rows;
}

Result<std::vector<std::pair<std::string, nlohmann::json>>> DocumentStore::query_json(
    const Query& q) const {
  auto rows = query(q);
  if (!rows.ok()) return rows.error();
  std::vector<std::pair<std::string, nlohmann::json>> out;
  for (auto& [id, d] : *rows) out.emplace_back(id, document_to_json(d));
  return out;
}

Result<std::size_t> DocumentStore::query_count(const Query& q) const {
  auto rows = query(q);
  if (!rows.ok()) return rows.error();
  return rows->size();
}

Result<std::uint64_t> DocumentStore::stored_size(std::string_view key) const {
  auto m = base_->meta(key);
  if (!m.ok()) return m.error();
  if (!m->has_value()) return make_error("NOT_FOUND", "no document " + std::string(key));
  return (*m)->snapshot_bytes + (*m)->tail_bytes;
}

}  // namespace peat::store
