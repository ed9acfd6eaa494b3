#include "peat/store/collection.hpp"

#include <algorithm>
#include <shared_mutex>

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

}  // namespace

Collection::Collection(std::shared_ptr<detail::BackendState> state, std::string name)
    : state_(std::move(state)),
      name_(std::move(name)),
      visible_([](const doc::Document& d) { return payload(d).has_value(); }) {}

Collection::~Collection() = default;

Status Collection::upsert(std::string_view id, ByteView data, UnixMillis now) {
  std::shared_lock lock(state_->mu);
  if (!state_->store) return closed();
  const std::string key = name_ + ":" + std::string(id);
  // Load, edit and put under the store's write lock (one change per actor sequence number,
  // also against put_json or other writers of the same store).
  return state_->store->update(
      key,
      [&](doc::Document& d) -> Status {
        auto current = d.get(doc::kRoot, kData);
        const auto* scalar = current ? std::get_if<doc::ScalarValue>(&*current) : nullptr;
        const auto* bytes = scalar ? std::get_if<Bytes>(scalar) : nullptr;
        if (!bytes || !std::equal(bytes->begin(), bytes->end(), data.begin(), data.end())) {
          PEAT_TRY_STATUS(d.put(doc::kRoot, kData, Bytes(data.begin(), data.end())));
        }
        if (d.get(doc::kRoot, kDeleted)) PEAT_TRY_STATUS(d.remove(doc::kRoot, kDeleted));
        return {};
      },
      now);
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
  // The visibility check reads outside the store's write lock: a concurrent writer may change
  // the document between it and the delete (the delete then applies to the newer state).
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
    visible_.remember(key, m, p.has_value());
    if (p) fn(key.substr(prefix.size()), std::move(*p));
  }
  return {};
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
  return visible_.count(*state_->store, name_ + ":");
}

}  // namespace peat::store
