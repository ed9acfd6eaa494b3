#include "peat/store/storage_backend.hpp"

#include <algorithm>

#include "store/backend_state.hpp"

namespace peat::store {

StorageBackend::StorageBackend(DocumentStore& store, std::string node_id)
    : state_(std::make_shared<detail::BackendState>()) {
  state_->store = &store;
  state_->node_id = std::move(node_id);
}

StorageBackend::StorageBackend(std::unique_ptr<DocumentStore> owned, std::string node_id)
    : StorageBackend(*owned, std::move(node_id)) {
  state_->owned = std::move(owned);
}

Result<std::unique_ptr<StorageBackend>> StorageBackend::open(const std::string& dir,
                                                             doc::ActorId actor,
                                                             DocStoreOptions options,
                                                             std::string node_id) {
  auto store = DocumentStore::open(dir, std::move(actor), std::move(options));
  if (!store.ok()) return store.error();
  return std::unique_ptr<StorageBackend>(new StorageBackend(std::move(*store), std::move(node_id)));
}

StorageBackend::~StorageBackend() {
  (void)close();
}

Result<std::shared_ptr<Collection>> StorageBackend::collection(std::string_view name) {
  if (name.empty() || name.size() > 256 || name.find(':') != std::string_view::npos ||
      name.find('\0') != std::string_view::npos) {
    return make_error("INVALID_ARGUMENT", "collection name '" + std::string(name) +
                                              "' must be 1..256 bytes without ':' or NUL");
  }
  {
    std::shared_lock lock(state_->mu);
    if (!state_->store) return make_error("STORE_CLOSED", "storage backend is closed");
  }
  std::lock_guard lock(handles_mu_);
  auto it = handles_.find(name);
  if (it == handles_.end()) {
    std::shared_ptr<Collection> c(new Collection(state_, std::string(name)));
    it = handles_.emplace(std::string(name), std::move(c)).first;
  }
  return it->second;
}

Result<std::vector<std::string>> StorageBackend::list_collections() const {
  std::vector<std::string> out;
  {
    std::shared_lock lock(state_->mu);
    if (!state_->store) return make_error("STORE_CLOSED", "storage backend is closed");
    auto stored = state_->store->list_collections();
    if (!stored.ok()) return stored.error();
    out = std::move(*stored);
  }
  {
    std::lock_guard lock(handles_mu_);
    for (const auto& [name, handle] : handles_) out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Status StorageBackend::flush() {
  std::shared_lock lock(state_->mu);
  if (!state_->store) return make_error("STORE_CLOSED", "storage backend is closed");
  return state_->store->base().env().sync();
}

Status StorageBackend::close() {
  std::unique_lock lock(state_->mu);
  if (!state_->store) return {};
  Status flushed = state_->store->base().env().sync();
  state_->store = nullptr;
  state_->owned.reset();
  return flushed;
}

}  // namespace peat::store
