#include "peat/store/doc_store.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>

#include "peat/common/byte_io.hpp"
#include "peat/common/sha256.hpp"

namespace peat::store {

namespace {

constexpr std::size_t kMaxKeyBytes = 400;  // LMDB keys are at most 511 bytes; tails add 5
constexpr std::uint8_t kMetaVersion = 1;

// Keys and records are big-endian, so that LMDB's byte order sorts numbers numerically.
Bytes encode_meta(const DocMeta& m) {
  BeWriter w;
  w.u8(kMetaVersion);
  w.u64(m.lamport);
  w.u64(m.updated_at);
  w.u64(m.expires_at);
  w.u64(m.snapshot_bytes);
  w.u64(m.tail_bytes);
  w.u32(m.tail_chunks);
  w.u32(m.next_seq);
  w.u8(m.soft_deleted ? 1 : 0);
  w.u8(static_cast<std::uint8_t>(m.geohash.size()));
  w.str(m.geohash);
  w.u16(static_cast<std::uint16_t>(m.version.size()));
  w.bytes(m.version);
  return w.take();
}

constexpr std::size_t kMetaFixed = 1 + 8 * 5 + 4 * 2 + 1 + 1;

Result<DocMeta> decode_meta(ByteView b) {
  if (b.size() < kMetaFixed || b[0] != kMetaVersion) {
    return make_error("STORE_CORRUPTED", "document metadata record is malformed");
  }
  BeReader r(b.subspan(1));
  DocMeta m;  // the size check above covers the fixed fields
  m.lamport = *r.u64();
  m.updated_at = *r.u64();
  m.expires_at = *r.u64();
  m.snapshot_bytes = *r.u64();
  m.tail_bytes = *r.u64();
  m.tail_chunks = *r.u32();
  m.next_seq = *r.u32();
  m.soft_deleted = *r.u8() != 0;
  const std::size_t glen = *r.u8();
  auto geohash = r.take(glen);
  auto vlen = r.u16();
  if (!geohash || !vlen || r.remaining() != *vlen) {
    return make_error("STORE_CORRUPTED", "document metadata record has a bad length");
  }
  m.geohash.assign(as_chars(*geohash));
  auto version = r.rest();
  m.version.assign(version.begin(), version.end());
  return m;
}

Bytes tail_key(std::string_view key, std::uint32_t seq) {
  BeWriter w;
  w.str(key);
  w.u8(0);
  w.u32(seq);
  return w.take();
}

Bytes tail_prefix(std::string_view key) {
  Bytes out(key.begin(), key.end());
  out.push_back(0);
  return out;
}

Bytes expiry_key(UnixMillis at, std::string_view key) {
  BeWriter w;
  w.u64(at);
  w.str(key);
  return w.take();
}

Bytes geo_key(std::string_view cell, std::string_view key) {
  Bytes out(cell.begin(), cell.end());
  out.push_back(0);
  out.insert(out.end(), key.begin(), key.end());
  return out;
}

std::string to_string(ByteView b) {
  return std::string(as_chars(b));
}

}  // namespace

// Runs fn(txn) -> Result<T> in a read transaction and returns its result.
template <typename T, typename Fn>
Result<T> read_value(const Env& env, Fn&& fn) {
  std::optional<T> out;
  Status st = env.read([&](const Txn& t) -> Status {
    Result<T> r = fn(t);
    if (!r.ok()) return r.error();
    out = std::move(*r);
    return {};
  });
  if (!st.ok()) return st.error();
  return std::move(*out);
}

// ---- Tombstone JSON -------------------------------------------------------------------------

std::string Tombstone::to_json() const {
  nlohmann::json j;
  j["document_id"] = document_id;
  j["collection"] = collection;
  j["deleted_at"] = {{"secs_since_epoch", deleted_at / 1000},
                     {"nanos_since_epoch", (deleted_at % 1000) * 1'000'000}};
  j["deleted_by"] = deleted_by;
  j["lamport"] = lamport;
  j["reason"] = reason ? nlohmann::json(*reason) : nlohmann::json(nullptr);
  return j.dump();
}

Result<Tombstone> Tombstone::from_json(std::string_view text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return make_error("INVALID_TOMBSTONE", "tombstone is not a JSON object");
  }
  try {
    Tombstone t;
    t.document_id = j.at("document_id").get<std::string>();
    t.collection = j.at("collection").get<std::string>();
    const auto& at = j.at("deleted_at");
    auto secs = at.at("secs_since_epoch").get<std::uint64_t>();
    auto nanos = at.at("nanos_since_epoch").get<std::uint64_t>();
    if (secs > UINT64_MAX / 1000 - 1 || nanos >= 1'000'000'000) {
      return make_error("INVALID_TOMBSTONE", "tombstone deleted_at out of range");
    }
    t.deleted_at = secs * 1000 + nanos / 1'000'000;
    t.deleted_by = j.at("deleted_by").get<std::string>();
    t.lamport = j.at("lamport").get<std::uint64_t>();
    if (j.contains("reason") && !j["reason"].is_null()) t.reason = j["reason"].get<std::string>();
    return t;
  } catch (const nlohmann::json::exception& e) {
    return make_error("INVALID_TOMBSTONE", std::string("tombstone JSON: ") + e.what());
  }
}

// ---- DocStore ----------------------------------------------------------------------------------

struct DocStore::Impl {
  std::unique_ptr<Env> env;
  DocStoreOptions options;
  DeletionPolicyRegistry policies;
  Db meta, snap, tail, tomb, expiry, geo;

  struct Sub {
    std::string prefix;
    std::function<void(const ChangeEvent&)> fn;
    std::atomic<bool> active{true};
  };
  std::mutex subs_mu;
  std::vector<std::shared_ptr<Sub>> subs;

  void dispatch(const std::vector<ChangeEvent>& events) {
    if (events.empty()) return;
    std::vector<std::shared_ptr<Sub>> copy;
    {
      std::lock_guard lock(subs_mu);
      copy = subs;
    }
    for (const ChangeEvent& e : events) {
      for (const auto& s : copy) {
        if (s->active && e.key.compare(0, s->prefix.size(), s->prefix) == 0) s->fn(e);
      }
    }
  }

  Result<std::optional<DocMeta>> read_meta(const Txn& t, std::string_view key) const {
    auto raw = t.get(meta, as_bytes(key));
    if (!raw.ok()) return raw.error();
    if (!raw->has_value()) return std::optional<DocMeta>{};
    auto m = decode_meta(**raw);
    if (!m.ok()) return m.error();
    return std::optional<DocMeta>{std::move(*m)};
  }

  Result<std::optional<Tombstone>> read_tomb(const Txn& t, std::string_view key) const {
    auto raw = t.get(tomb, as_bytes(key));
    if (!raw.ok()) return raw.error();
    if (!raw->has_value()) return std::optional<Tombstone>{};
    auto parsed = Tombstone::from_json(as_chars(**raw));
    if (!parsed.ok()) return parsed.error();
    return std::optional<Tombstone>{std::move(*parsed)};
  }

  Status write_meta(Txn& t, std::string_view key, const DocMeta& m) {
    Bytes enc = encode_meta(m);
    return t.put(meta, as_bytes(key), enc);
  }

  Status set_geohash(Txn& t, std::string_view key, DocMeta& m, const std::string& cell) {
    if (m.geohash == cell) return {};
    if (cell.size() > 64 || cell.find('\0') != std::string::npos) {
      return make_error("INVALID_GEOHASH", "geohash cell must be at most 64 bytes without NUL");
    }
    if (!m.geohash.empty()) {
      auto r = t.del(geo, geo_key(m.geohash, key));
      if (!r.ok()) return r.error();
    }
    if (!cell.empty()) PEAT_TRY_STATUS(t.put(geo, geo_key(cell, key), {}));
    m.geohash = cell;
    return {};
  }

  Status set_expiry(Txn& t, std::string_view key, DocMeta& m, UnixMillis at) {
    if (m.expires_at == at) return {};
    if (m.expires_at != 0) {
      auto r = t.del(expiry, expiry_key(m.expires_at, key));
      if (!r.ok()) return r.error();
    }
    if (at != 0) PEAT_TRY_STATUS(t.put(expiry, expiry_key(at, key), {}));
    m.expires_at = at;
    return {};
  }

  Status drop_tail(Txn& t, std::string_view key) {
    std::vector<Bytes> keys;
    Bytes prefix = tail_prefix(key);
    PEAT_TRY_STATUS(t.scan_prefix(tail, prefix, [&](ByteView k, ByteView) {
      keys.emplace_back(k.begin(), k.end());
      return true;
    }));
    for (const Bytes& k : keys) {
      auto r = t.del(tail, k);
      if (!r.ok()) return r.error();
    }
    return {};
  }

  // Removes every record of the document. Returns whether it existed.
  Result<bool> remove_doc(Txn& t, std::string_view key) {
    auto m = read_meta(t, key);
    if (!m.ok()) return m.error();
    if (!m->has_value()) return false;
    DocMeta& dm = **m;
    PEAT_TRY_STATUS(set_expiry(t, key, dm, 0));
    PEAT_TRY_STATUS(set_geohash(t, key, dm, ""));
    PEAT_TRY_STATUS(drop_tail(t, key));
    auto r1 = t.del(snap, as_bytes(key));
    if (!r1.ok()) return r1.error();
    auto r2 = t.del(meta, as_bytes(key));
    if (!r2.ok()) return r2.error();
    return true;
  }

  Result<Bytes> read_all(const Txn& t, std::string_view key, const DocMeta& m) const {
    Bytes out;
    out.reserve(m.snapshot_bytes + m.tail_bytes);
    auto s = t.get(snap, as_bytes(key));
    if (!s.ok()) return s.error();
    if (s->has_value()) out.insert(out.end(), (*s)->begin(), (*s)->end());
    PEAT_TRY_STATUS(t.scan_prefix(tail, tail_prefix(key), [&](ByteView, ByteView v) {
      out.insert(out.end(), v.begin(), v.end());
      return true;
    }));
    return out;
  }

  Status write_snapshot(Txn& t, std::string_view key, DocMeta& m, ByteView snapshot) {
    PEAT_TRY_STATUS(drop_tail(t, key));
    if (snapshot.empty()) {
      auto r = t.del(snap, as_bytes(key));
      if (!r.ok()) return r.error();
    } else {
      PEAT_TRY_STATUS(t.put(snap, as_bytes(key), snapshot));
    }
    m.snapshot_bytes = snapshot.size();
    m.tail_bytes = 0;
    m.tail_chunks = 0;
    return {};
  }

  // Refuses writes that a tombstone covers; clears a tombstone a newer write may override.
  Status check_tombstone(Txn& t, std::string_view key, std::string_view collection,
                         std::uint64_t lamport) {
    auto ts = read_tomb(t, key);
    if (!ts.ok()) return ts.error();
    if (!ts->has_value()) return {};
    const Tombstone& existing = **ts;
    DeletionPolicy p = policies.get(collection);
    bool newer = lamport > existing.lamport;
    if (newer && !p.delete_wins) {
      auto r = t.del(tomb, as_bytes(key));
      if (!r.ok()) return r.error();
      return {};
    }
    return make_error("TOMBSTONED", "document " + std::string(key) + " was deleted at lamport " +
                                        std::to_string(existing.lamport) + "; write at lamport " +
                                        std::to_string(lamport) + " refused");
  }

  Status apply_write_info(Txn& t, std::string_view key, std::string_view collection, DocMeta& m,
                          const WriteInfo& info) {
    m.lamport = std::max(m.lamport, info.lamport);
    m.updated_at = info.now;
    if (info.expires_at) {
      PEAT_TRY_STATUS(set_expiry(t, key, m, *info.expires_at));
    } else if (auto ttl = options.ttl.for_collection(collection)) {
      PEAT_TRY_STATUS(set_expiry(t, key, m, info.now + static_cast<UnixMillis>(ttl->count())));
    }
    if (info.geohash) PEAT_TRY_STATUS(set_geohash(t, key, m, *info.geohash));
    if (info.version) {
      if (info.version->size() > 4096) {
        return make_error("INVALID_ARGUMENT", "document version longer than 4096 bytes");
      }
      m.version = *info.version;
    }
    if (info.soft_deleted) m.soft_deleted = *info.soft_deleted;
    return {};
  }

  // One document write: refused when a tombstone covers it; otherwise `change` updates the
  // stored data and its metadata, then the write info applies and the change event is queued.
  Status write_doc(Txn& t, std::vector<ChangeEvent>& events, std::string_view key,
                   const WriteInfo& info, const std::function<Status(Txn&, DocMeta&)>& change) {
    auto parts = split_key(key);
    if (!parts.ok()) return parts.error();
    PEAT_TRY_STATUS(check_tombstone(t, key, parts->first, info.lamport));
    auto existing = read_meta(t, key);
    if (!existing.ok()) return existing.error();
    DocMeta m = existing->value_or(DocMeta{});
    PEAT_TRY_STATUS(change(t, m));
    PEAT_TRY_STATUS(apply_write_info(t, key, parts->first, m, info));
    PEAT_TRY_STATUS(write_meta(t, key, m));
    events.push_back({std::string(key), ChangeKind::kPut, info.from_peer});
    return {};
  }

  Status compact_in(Txn& t, std::string_view key, DocMeta& m) {
    auto all = read_all(t, key, m);
    if (!all.ok()) return all.error();
    auto compacted = options.compactor(*all);
    if (!compacted.ok()) return compacted.error();
    return write_snapshot(t, key, m, *compacted);
  }
};

DocStore::DocStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DocStore::~DocStore() = default;

Result<std::unique_ptr<DocStore>> DocStore::open(const std::string& dir, DocStoreOptions options) {
  auto env = Env::open(dir, options.env);
  if (!env.ok()) return env.error();
  auto impl = std::make_unique<Impl>();
  impl->env = std::move(*env);
  impl->options = std::move(options);
  struct Named {
    const char* name;
    Db* db;
  };
  for (Named n : {Named{"doc_meta", &impl->meta}, Named{"doc_snapshot", &impl->snap},
                  Named{"doc_tail", &impl->tail}, Named{"tombstones", &impl->tomb},
                  Named{"expiry", &impl->expiry}, Named{"geohash", &impl->geo}}) {
    auto db = impl->env->open_db(n.name);
    if (!db.ok()) return db.error();
    *n.db = *db;
  }
  return std::unique_ptr<DocStore>(new DocStore(std::move(impl)));
}

Result<std::pair<std::string, std::string>> DocStore::split_key(std::string_view key) {
  if (key.size() > kMaxKeyBytes) {
    return make_error("INVALID_KEY", "key longer than " + std::to_string(kMaxKeyBytes) + " bytes");
  }
  if (key.find('\0') != std::string_view::npos) {
    return make_error("INVALID_KEY", "key contains a NUL byte");
  }
  auto colon = key.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == key.size()) {
    return make_error("INVALID_KEY",
                      "key must be collection:doc_id, got '" + std::string(key) + "'");
  }
  return std::pair<std::string, std::string>{std::string(key.substr(0, colon)),
                                             std::string(key.substr(colon + 1))};
}

Status DocStore::append(std::string_view key, ByteView chunks, const WriteInfo& info) {
  return batch([&](Batch& b) { return b.append(key, chunks, info); });
}

Status DocStore::replace(std::string_view key, ByteView snapshot, const WriteInfo& info) {
  return batch([&](Batch& b) { return b.replace(key, snapshot, info); });
}

Status DocStore::Batch::append(std::string_view key, ByteView chunks, const WriteInfo& info) {
  return impl_->write_doc(*txn_, *events_, key, info, [&](Txn& t, DocMeta& m) -> Status {
    if (!chunks.empty()) {
      PEAT_TRY_STATUS(t.put(impl_->tail, tail_key(key, m.next_seq), chunks));
      ++m.next_seq;
      ++m.tail_chunks;
      m.tail_bytes += chunks.size();
    }
    const auto& o = impl_->options;
    if (o.compactor &&
        (m.tail_bytes > o.compact_tail_bytes || m.tail_chunks > o.compact_tail_chunks)) {
      PEAT_TRY_STATUS(impl_->compact_in(t, key, m));
    }
    return {};
  });
}

Status DocStore::Batch::replace(std::string_view key, ByteView snapshot, const WriteInfo& info) {
  return impl_->write_doc(*txn_, *events_, key, info, [&](Txn& t, DocMeta& m) {
    return impl_->write_snapshot(t, key, m, snapshot);
  });
}

Result<bool> DocStore::Batch::remove(std::string_view key) {
  auto r = impl_->remove_doc(*txn_, key);
  if (!r.ok()) return r.error();
  if (*r) events_->push_back({std::string(key), ChangeKind::kDeleted});
  return *r;
}

Result<std::optional<DocMeta>> DocStore::Batch::meta(std::string_view key) const {
  return impl_->read_meta(*txn_, key);
}

Result<std::optional<Bytes>> DocStore::Batch::read(std::string_view key) const {
  auto m = impl_->read_meta(*txn_, key);
  if (!m.ok()) return m.error();
  if (!m->has_value()) return std::optional<Bytes>{};
  auto all = impl_->read_all(*txn_, key, **m);
  if (!all.ok()) return all.error();
  return std::optional<Bytes>{std::move(*all)};
}

Status DocStore::batch(const std::function<Status(Batch&)>& fn) {
  std::vector<ChangeEvent> events;
  Status st = impl_->env->write([&](Txn& t) -> Status {
    events.clear();  // the function runs again if the map had to grow
    Batch b(impl_.get(), &t, &events);
    return fn(b);
  });
  if (st.ok()) impl_->dispatch(events);
  return st;
}

Result<bool> DocStore::remove(std::string_view key) {
  bool existed = false;
  Status st = batch([&](Batch& b) -> Status {
    auto r = b.remove(key);
    if (!r.ok()) return r.error();
    existed = *r;
    return {};
  });
  if (!st.ok()) return st.error();
  return existed;
}

Result<DeleteResult> DocStore::delete_document(std::string_view key, UnixMillis now,
                                               std::string_view deleted_by, std::uint64_t lamport,
                                               std::optional<std::string> reason) {
  auto parts = split_key(key);
  if (!parts.ok()) return parts.error();
  DeletionPolicy policy = impl_->policies.get(parts->first);
  if (policy.kind == DeletionKind::kImmutable) return DeleteResult{DeleteOutcome::kImmutable, {}};
  if (policy.kind == DeletionKind::kImplicitTtl) {
    return DeleteResult{DeleteOutcome::kTtlManaged, {}};
  }
  DeleteResult result;
  std::vector<ChangeEvent> events;
  Status st = impl_->env->write([&](Txn& t) -> Status {
    events.clear();
    result = DeleteResult{};
    auto m = impl_->read_meta(t, key);
    if (!m.ok()) return m.error();
    if (policy.kind == DeletionKind::kSoftDelete) {
      if (!m->has_value()) return {};
      DocMeta dm = **m;
      if (!dm.soft_deleted) {
        dm.soft_deleted = true;
        dm.lamport = std::max(dm.lamport, lamport);
        dm.updated_at = now;
        PEAT_TRY_STATUS(impl_->write_meta(t, key, dm));
        events.push_back({std::string(key), ChangeKind::kSoftDeleted});
      }
      result.outcome = DeleteOutcome::kSoftDeleted;
      return {};
    }
    // Tombstone policy: written even for a document never seen here, so a late copy is refused.
    auto prior = impl_->read_tomb(t, key);
    if (!prior.ok()) return prior.error();
    Tombstone tomb;
    tomb.collection = parts->first;
    tomb.document_id = parts->second;
    tomb.deleted_at = now;
    tomb.deleted_by = std::string(deleted_by);
    tomb.lamport = std::max(lamport, m->has_value() ? (*m)->lamport : 0);
    if (prior->has_value()) tomb.lamport = std::max(tomb.lamport, (*prior)->lamport);
    tomb.reason = reason;
    std::string json = tomb.to_json();
    PEAT_TRY_STATUS(t.put(impl_->tomb, as_bytes(key), as_bytes(json)));
    auto removed = impl_->remove_doc(t, key);
    if (!removed.ok()) return removed.error();
    if (*removed) events.push_back({std::string(key), ChangeKind::kDeleted});
    result.outcome = DeleteOutcome::kTombstoned;
    result.tombstone_expires_at = now + static_cast<UnixMillis>(policy.ttl.count());
    return {};
  });
  if (!st.ok()) return st.error();
  impl_->dispatch(events);
  return result;
}

Result<bool> DocStore::apply_tombstone(const Tombstone& tombstone) {
  std::string key = tombstone.key();
  auto parts = split_key(key);
  if (!parts.ok()) return parts.error();
  DeletionPolicy policy = impl_->policies.get(tombstone.collection);
  bool changed = false;
  bool removed_doc = false;
  Status st = impl_->env->write([&](Txn& t) -> Status {
    changed = removed_doc = false;
    auto prior = impl_->read_tomb(t, key);
    if (!prior.ok()) return prior.error();
    if (prior->has_value() && (*prior)->lamport >= tombstone.lamport) return {};
    std::string json = tombstone.to_json();
    PEAT_TRY_STATUS(t.put(impl_->tomb, as_bytes(key), as_bytes(json)));
    changed = true;
    auto m = impl_->read_meta(t, key);
    if (!m.ok()) return m.error();
    if (m->has_value() && (policy.delete_wins || (*m)->lamport <= tombstone.lamport)) {
      auto r = impl_->remove_doc(t, key);
      if (!r.ok()) return r.error();
      removed_doc = *r;
    }
    return {};
  });
  if (!st.ok()) return st.error();
  if (removed_doc) impl_->dispatch({{key, ChangeKind::kDeleted}});
  return changed;
}

Result<std::pair<std::uint64_t, std::uint64_t>> DocStore::compact(std::string_view key) {
  if (!impl_->options.compactor) {
    return make_error("NO_COMPACTOR", "this store was opened without a compactor");
  }
  std::pair<std::uint64_t, std::uint64_t> sizes{0, 0};
  Status st = impl_->env->write([&](Txn& t) -> Status {
    auto m = impl_->read_meta(t, key);
    if (!m.ok()) return m.error();
    if (!m->has_value()) return make_error("NOT_FOUND", "no document " + std::string(key));
    DocMeta dm = **m;
    sizes.first = dm.snapshot_bytes + dm.tail_bytes;
    PEAT_TRY_STATUS(impl_->compact_in(t, key, dm));
    sizes.second = dm.snapshot_bytes;
    return impl_->write_meta(t, key, dm);
  });
  if (!st.ok()) return st.error();
  return sizes;
}

Result<std::optional<Bytes>> DocStore::read(std::string_view key) const {
  return read_value<std::optional<Bytes>>(*impl_->env,
                                          [&](const Txn& t) -> Result<std::optional<Bytes>> {
                                            auto m = impl_->read_meta(t, key);
                                            if (!m.ok()) return m.error();
                                            if (!m->has_value()) return std::optional<Bytes>{};
                                            auto all = impl_->read_all(t, key, **m);
                                            if (!all.ok()) return all.error();
                                            return std::optional<Bytes>{std::move(*all)};
                                          });
}

Result<std::optional<DocMeta>> DocStore::meta(std::string_view key) const {
  return read_value<std::optional<DocMeta>>(*impl_->env,
                                            [&](const Txn& t) { return impl_->read_meta(t, key); });
}

bool DocStore::contains(std::string_view key) const {
  auto m = meta(key);
  return m.ok() && m->has_value();
}

Result<std::vector<std::pair<std::string, DocMeta>>> DocStore::scan_meta(
    std::string_view prefix, bool include_deleted) const {
  std::vector<std::pair<std::string, DocMeta>> out;
  Status st = impl_->env->read([&](const Txn& t) -> Status {
    Status inner;
    PEAT_TRY_STATUS(t.scan_prefix(impl_->meta, as_bytes(prefix), [&](ByteView k, ByteView v) {
      auto m = decode_meta(v);
      if (!m.ok()) {
        inner = m.error();
        return false;
      }
      if (include_deleted || !m->soft_deleted) out.emplace_back(to_string(k), std::move(*m));
      return true;
    }));
    return inner;
  });
  if (!st.ok()) return st.error();
  return out;
}

Result<std::vector<std::string>> DocStore::scan_prefix(std::string_view prefix,
                                                       bool include_deleted) const {
  auto rows = scan_meta(prefix, include_deleted);
  if (!rows.ok()) return rows.error();
  std::vector<std::string> out;
  out.reserve(rows->size());
  for (auto& [key, m] : *rows) out.push_back(std::move(key));
  return out;
}

Result<std::vector<std::string>> DocStore::list(std::string_view collection,
                                                bool include_deleted) const {
  return scan_prefix(std::string(collection) + ":", include_deleted);
}

Result<std::size_t> DocStore::count() const {
  return read_value<std::size_t>(*impl_->env, [&](const Txn& t) { return t.count(impl_->meta); });
}

Result<std::vector<std::string>> DocStore::list_collections() const {
  std::vector<std::string> out;
  Status st = impl_->env->read([&](const Txn& t) -> Status {
    std::string from;
    for (;;) {
      std::optional<std::string> found;
      PEAT_TRY_STATUS(t.scan_range(impl_->meta, as_bytes(from), {}, [&](ByteView k, ByteView) {
        std::string key = to_string(k);
        found = key.substr(0, key.find(':'));
        return false;
      }));
      if (!found) return {};
      out.push_back(*found);
      from = *found + ";";  // ';' follows ':': skip the rest of this collection
    }
  });
  if (!st.ok()) return st.error();
  return out;
}

Result<std::vector<SyncItem>> DocStore::sync_items(std::string_view prefix) const {
  auto rows = scan_meta(prefix, true);
  if (!rows.ok()) return rows.error();
  std::vector<SyncItem> out;
  out.reserve(rows->size());
  for (const auto& [key, m] : *rows) {
    Sha256 h;
    h.update(as_bytes(key));
    const std::uint8_t sep = 0;
    h.update(ByteView(&sep, 1));
    h.update(m.version);
    out.push_back(SyncItem{key, m.lamport, h.finish()});
  }
  return out;
}

Result<std::optional<Tombstone>> DocStore::get_tombstone(std::string_view key) const {
  return read_value<std::optional<Tombstone>>(
      *impl_->env, [&](const Txn& t) { return impl_->read_tomb(t, key); });
}

Result<std::vector<Tombstone>> DocStore::tombstones(std::string_view collection) const {
  std::vector<Tombstone> out;
  std::string prefix = collection.empty() ? std::string() : std::string(collection) + ":";
  Status st = impl_->env->read([&](const Txn& t) -> Status {
    Status inner;
    PEAT_TRY_STATUS(t.scan_prefix(impl_->tomb, as_bytes(prefix), [&](ByteView, ByteView v) {
      auto parsed = Tombstone::from_json(as_chars(v));
      if (!parsed.ok()) {
        inner = parsed.error();
        return false;
      }
      out.push_back(std::move(*parsed));
      return true;
    }));
    return inner;
  });
  if (!st.ok()) return st.error();
  return out;
}

Result<bool> DocStore::remove_tombstone(std::string_view key) {
  bool existed = false;
  Status st = impl_->env->write([&](Txn& t) -> Status {
    auto r = t.del(impl_->tomb, as_bytes(key));
    if (!r.ok()) return r.error();
    existed = *r;
    return {};
  });
  if (!st.ok()) return st.error();
  return existed;
}

Status DocStore::set_expiry(std::string_view key, UnixMillis expires_at) {
  return impl_->env->write([&](Txn& t) -> Status {
    auto m = impl_->read_meta(t, key);
    if (!m.ok()) return m.error();
    if (!m->has_value()) return make_error("NOT_FOUND", "no document " + std::string(key));
    DocMeta dm = **m;
    PEAT_TRY_STATUS(impl_->set_expiry(t, key, dm, expires_at));
    return impl_->write_meta(t, key, dm);
  });
}

Result<std::vector<std::string>> DocStore::expire(UnixMillis now) {
  std::vector<std::string> expired;
  Status st = impl_->env->write([&](Txn& t) -> Status {
    expired.clear();
    BeWriter end;  // entries sort by expiry time; stop at the first one after `now`
    if (now != UINT64_MAX) end.u64(now + 1);
    PEAT_TRY_STATUS(t.scan_range(impl_->expiry, {}, end.out(), [&](ByteView k, ByteView) {
      if (k.size() > 8) expired.emplace_back(as_chars(k.subspan(8)));
      return true;
    }));
    for (const std::string& key : expired) {
      auto r = impl_->remove_doc(t, key);
      if (!r.ok()) return r.error();
    }
    return {};
  });
  if (!st.ok()) return st.error();
  std::vector<ChangeEvent> events;
  for (const std::string& k : expired) events.push_back({k, ChangeKind::kExpired});
  impl_->dispatch(events);
  return expired;
}

Result<GcStats> DocStore::gc(UnixMillis now, std::size_t batch) {
  GcStats stats;
  std::vector<ChangeEvent> events;
  Status st = impl_->env->write([&](Txn& t) -> Status {
    stats = GcStats{};
    events.clear();
    std::vector<std::string> old_tombs;
    PEAT_TRY_STATUS(t.scan_range(impl_->tomb, {}, {}, [&](ByteView k, ByteView v) {
      auto parsed = Tombstone::from_json(as_chars(v));
      if (!parsed.ok()) return true;  // left for check_consistency to report
      DeletionPolicy p = impl_->policies.get(parsed->collection);
      auto ttl = static_cast<UnixMillis>(p.kind == DeletionKind::kTombstone
                                             ? p.ttl.count()
                                             : impl_->options.ttl.tombstone_ttl.count());
      if (now > parsed->deleted_at && now - parsed->deleted_at > ttl) {
        old_tombs.push_back(to_string(k));
      }
      return old_tombs.size() < batch;
    }));
    for (const std::string& k : old_tombs) {
      auto r = t.del(impl_->tomb, as_bytes(k));
      if (!r.ok()) return r.error();
    }
    stats.tombstones_removed = old_tombs.size();

    std::vector<std::string> stale;
    PEAT_TRY_STATUS(t.scan_range(impl_->meta, {}, {}, [&](ByteView k, ByteView v) {
      std::string key = to_string(k);
      DeletionPolicy p = impl_->policies.get(key.substr(0, key.find(':')));
      if (p.kind != DeletionKind::kImplicitTtl) return true;
      auto m = decode_meta(v);
      if (!m.ok()) return true;
      if (now > m->updated_at && now - m->updated_at > static_cast<UnixMillis>(p.ttl.count())) {
        stale.push_back(key);
      }
      return stale.size() < batch;
    }));
    for (const std::string& k : stale) {
      auto r = impl_->remove_doc(t, k);
      if (!r.ok()) return r.error();
      events.push_back({k, ChangeKind::kExpired});
    }
    stats.documents_removed = stale.size();
    return {};
  });
  if (!st.ok()) return st.error();
  impl_->dispatch(events);
  return stats;
}

Result<std::vector<std::string>> DocStore::find_in_cell(std::string_view cell) const {
  std::vector<std::string> out;
  Bytes prefix(cell.begin(), cell.end());
  prefix.push_back(0);
  Status st = impl_->env->read([&](const Txn& t) -> Status {
    return t.scan_prefix(impl_->geo, prefix, [&](ByteView k, ByteView) {
      out.emplace_back(as_chars(k.subspan(prefix.size())));
      return true;
    });
  });
  if (!st.ok()) return st.error();
  return out;
}

Result<std::vector<std::string>> DocStore::find_by_geohash_prefix(std::string_view prefix) const {
  std::vector<std::string> out;
  Status st = impl_->env->read([&](const Txn& t) -> Status {
    return t.scan_prefix(impl_->geo, as_bytes(prefix), [&](ByteView k, ByteView) {
      std::string_view entry = as_chars(k);
      auto nul = entry.find('\0');
      if (nul != std::string_view::npos) out.emplace_back(entry.substr(nul + 1));
      return true;
    });
  });
  if (!st.ok()) return st.error();
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::vector<std::string>> DocStore::find_in_cells(
    const std::vector<std::string>& cells) const {
  std::vector<std::string> out;
  for (const std::string& cell : cells) {
    auto found = find_in_cell(cell);
    if (!found.ok()) return found.error();
    out.insert(out.end(), found->begin(), found->end());
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Subscription DocStore::subscribe(std::string prefix, std::function<void(const ChangeEvent&)> fn) {
  auto sub = std::make_shared<Impl::Sub>();
  sub->prefix = std::move(prefix);
  sub->fn = std::move(fn);
  {
    std::lock_guard lock(impl_->subs_mu);
    impl_->subs.push_back(sub);
  }
  Impl* impl = impl_.get();
  std::weak_ptr<Impl::Sub> weak = sub;
  return Subscription([impl, weak] {
    auto s = weak.lock();
    if (!s) return;
    s->active = false;
    std::lock_guard lock(impl->subs_mu);
    std::erase(impl->subs, s);
  });
}

DeletionPolicyRegistry& DocStore::policies() {
  return impl_->policies;
}

Env& DocStore::env() {
  return *impl_->env;
}

Status DocStore::check_consistency() const {
  return impl_->env->read([&](const Txn& t) -> Status {
    auto fail = [](const std::string& what) { return make_error("STORE_INCONSISTENT", what); };
    std::set<std::string> keys;
    Status inner;
    PEAT_TRY_STATUS(t.scan_range(impl_->meta, {}, {}, [&](ByteView k, ByteView v) {
      std::string key = to_string(k);
      keys.insert(key);
      auto m = decode_meta(v);
      if (!m.ok()) {
        inner = fail(key + ": " + m.error().message);
        return false;
      }
      auto s = t.get(impl_->snap, k);
      std::size_t snap_size = s.ok() && s->has_value() ? (*s)->size() : 0;
      if (!s.ok() || snap_size != m->snapshot_bytes) {
        inner = fail(key + ": snapshot size differs from metadata");
        return false;
      }
      std::uint64_t bytes = 0;
      std::uint32_t chunks = 0;
      bool seq_ok = true;
      (void)t.scan_prefix(impl_->tail, tail_prefix(key), [&](ByteView tk, ByteView tv) {
        bytes += tv.size();
        ++chunks;
        if (tk.size() != key.size() + 5 ||
            *BeReader(tk.subspan(key.size() + 1)).u32() >= m->next_seq) {
          seq_ok = false;
        }
        return true;
      });
      if (bytes != m->tail_bytes || chunks != m->tail_chunks || !seq_ok) {
        inner = fail(key + ": change tail differs from metadata");
        return false;
      }
      if (m->expires_at != 0) {
        auto e = t.get(impl_->expiry, expiry_key(m->expires_at, key));
        if (!e.ok() || !e->has_value()) {
          inner = fail(key + ": expiry index entry missing");
          return false;
        }
      }
      if (!m->geohash.empty()) {
        auto g = t.get(impl_->geo, geo_key(m->geohash, key));
        if (!g.ok() || !g->has_value()) {
          inner = fail(key + ": geohash index entry missing");
          return false;
        }
      }
      return true;
    }));
    if (!inner.ok()) return inner;
    auto orphan = [&](Db db, auto key_of, const char* what) -> Status {
      Status result;
      PEAT_TRY_STATUS(t.scan_range(db, {}, {}, [&](ByteView k, ByteView) {
        std::string owner = key_of(k);
        if (!keys.contains(owner)) {
          result = fail(std::string(what) + " entry without document: " + owner);
          return false;
        }
        return true;
      }));
      return result;
    };
    PEAT_TRY_STATUS(orphan(
        impl_->snap, [](ByteView k) { return to_string(k); }, "snapshot"));
    PEAT_TRY_STATUS(orphan(
        impl_->tail,
        [](ByteView k) {
          std::string s = to_string(k);
          return s.substr(0, s.find('\0'));
        },
        "tail"));
    PEAT_TRY_STATUS(orphan(
        impl_->expiry, [](ByteView k) { return k.size() > 8 ? to_string(k.subspan(8)) : ""; },
        "expiry"));
    PEAT_TRY_STATUS(orphan(
        impl_->geo,
        [](ByteView k) {
          std::string s = to_string(k);
          auto nul = s.find('\0');
          return nul == std::string::npos ? s : s.substr(nul + 1);
        },
        "geohash"));
    return {};
  });
}

}  // namespace peat::store
