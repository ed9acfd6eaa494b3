#include "peat/store/collection.hpp"

#include <shared_mutex>

#include "peat/common/byte_io.hpp"
#include "peat/store/json_convert.hpp"
#include "store/backend_state.hpp"

namespace peat::store {

namespace {

const std::string kData = "data";
const std::string kDeleted = "_deleted";

Error closed() {
  return make_error("STORE_CLOSED", "storage backend is closed");
}

// The payload as the bytes view sees it: root "data" holding bytes, and no `_deleted` mark.
std::optional<Bytes> payload(const doc::Document& d) {
  if (marked_deleted(d)) return std::nullopt;
  auto v = d.get(doc::kRoot, kData);
  if (!v) return std::nullopt;
  auto* s = std::get_if<doc::ScalarValue>(&*v);
  auto* b = s ? std::get_if<Bytes>(s) : nullptr;
  if (!b) return std::nullopt;
  return std::move(*b);
}

// Identifies a stored state of a document: DocumentStore versions it by its heads; the sequence
// and sizes also change with any write that did not set a version.
Bytes fingerprint(const DocMeta& m) {
  BeWriter w;
  w.u64(m.lamport);
  w.u32(m.next_seq);
  w.u64(m.snapshot_bytes);
  w.u64(m.tail_bytes);
  w.bytes(m.version);
  return w.take();
}

}  // namespace

Collection::Collection(std::shared_ptr<detail::BackendState> state, std::string name)
    : state_(std::move(state)), name_(std::move(name)) {}

Collection::~Collection() = default;

Status Collection::upsert(std::string_view id, ByteView data, UnixMillis now) {
  std::shared_lock lock(state_->mu);
  if (!state_->store) return closed();
  DocumentStore& store = *state_->store;
  const std::string key = name_ + ":" + std::string(id);
  PEAT_TRY_STATUS(DocStore::split_key(key));
  std::lock_guard write_lock(state_->write_mu);
  auto existing = store.get(key);
  if (!existing.ok()) return existing.error();
  doc::Document d = existing->has_value() ? std::move(**existing) : doc::Document(store.actor());
  auto current = d.get(doc::kRoot, kData);
  const auto* scalar = current ? std::get_if<doc::ScalarValue>(&*current) : nullptr;
  const auto* bytes = scalar ? std::get_if<Bytes>(scalar) : nullptr;
  if (!bytes || !std::equal(bytes->begin(), bytes->end(), data.begin(), data.end())) {
    PEAT_TRY_STATUS(d.put(doc::kRoot, kData, Bytes(data.begin(), data.end())));
  }
  if (d.get(doc::kRoot, kDeleted)) PEAT_TRY_STATUS(d.remove(doc::kRoot, kDeleted));
  return store.put(key, d, now);
}

Result<std::optional<Bytes>> Collection::get(std::string_view id) const {
  std::shared_lock lock(state_->mu);
  if (!state_->store) return closed();
  auto d = state_->store->get(name_ + ":" + std::string(id));
  if (!d.ok()) return d.error();
  if (!d->has_value()) return std::optional<Bytes>{};
  return payload(**d);
}

Result<DeleteResult> Collection::remove(std::string_view id, UnixMillis now) {
  std::shared_lock lock(state_->mu);
  if (!state_->store) return closed();
  DocumentStore& store = *state_->store;
  const std::string key = name_ + ":" + std::string(id);
  std::lock_guard write_lock(state_->write_mu);
  auto d = store.get(key);
  if (!d.ok()) return d.error();
  if (!d->has_value() || !payload(**d)) return DeleteResult{};  // kNotFound, nothing written
  return store.remove(key, now, state_->node_id);
}

Status Collection::visit(std::string_view id_prefix,
                         const std::function<void(std::string id, Bytes data)>& fn) const {
  std::shared_lock lock(state_->mu);
  if (!state_->store) return closed();
  DocumentStore& store = *state_->store;
  const std::string prefix = name_ + ":";
  auto metas = store.base().scan_meta(prefix + std::string(id_prefix), true);
  if (!metas.ok()) return metas.error();
  for (auto& [key, m] : *metas) {
    auto d = store.get(key);
    if (!d.ok()) return d.error();
    if (!d->has_value()) continue;  // removed since the scan
    auto p = payload(**d);
    remember(key, fingerprint(m), p.has_value());
    if (p) fn(key.substr(prefix.size()), std::move(*p));
  }
  return {};
}

void Collection::remember(const std::string& key, Bytes print, bool visible) const {
  std::lock_guard lock(seen_mu_);
  seen_[key] = Seen{std::move(print), visible};
}

Result<std::vector<Collection::Row>> Collection::scan() const {
  return find([](ByteView) { return true; });
}

Result<std::vector<Collection::Row>> Collection::find(
    const std::function<bool(ByteView data)>& predicate) const {
  std::vector<Row> out;
  PEAT_TRY_STATUS(visit("", [&](std::string id, Bytes data) {
    if (predicate(data)) out.emplace_back(std::move(id), std::move(data));
  }));
  return out;
}

Result<std::vector<Collection::Row>> Collection::query_geohash_prefix(
    std::string_view prefix) const {
  std::vector<Row> out;
  PEAT_TRY_STATUS(visit(prefix, [&](std::string id, Bytes data) {
    out.emplace_back(std::move(id), std::move(data));
  }));
  return out;
}

Result<std::size_t> Collection::count() const {
  std::shared_lock lock(state_->mu);
  if (!state_->store) return closed();
  DocumentStore& store = *state_->store;
  auto metas = store.base().scan_meta(name_ + ":", true);
  if (!metas.ok()) return metas.error();
  std::map<std::string, Seen, std::less<>> fresh;
  std::size_t n = 0;
  for (auto& [key, m] : *metas) {
    Bytes print = fingerprint(m);
    std::optional<bool> visible;
    {
      std::lock_guard seen_lock(seen_mu_);
      auto it = seen_.find(key);
      if (it != seen_.end() && it->second.fingerprint == print) visible = it->second.visible;
    }
    if (!visible) {
      auto d = store.get(key);
      if (!d.ok()) return d.error();
      visible = d->has_value() && payload(**d).has_value();
    }
    if (*visible) ++n;
    fresh.emplace(key, Seen{std::move(print), *visible});
  }
  std::lock_guard seen_lock(seen_mu_);
  seen_ = std::move(fresh);  // forgets documents that are gone
  return n;
}

}  // namespace peat::store
