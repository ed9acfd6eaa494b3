// StorageBackend: named bytes collections over one DocumentStore (the Rust peat-mesh
// `StorageBackend` trait, spec 1.2). collection(name) returns the same handle for the same name
// for the backend's lifetime; close() flushes and ends every handle ("STORE_CLOSED" afterwards)
// and, for a backend that opened its own store, closes the store.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "peat/store/collection.hpp"
#include "peat/store/document_store.hpp"

namespace peat::store {

class StorageBackend {
 public:
  // A backend over a store the caller keeps (it must outlive the backend). `node_id` is recorded
  // as `deleted_by` in tombstones.
  explicit StorageBackend(DocumentStore& store, std::string node_id = "local");
  // A backend owning a store opened at `dir`.
  static Result<std::unique_ptr<StorageBackend>> open(const std::string& dir, doc::ActorId actor,
                                                      DocStoreOptions options = {},
                                                      std::string node_id = "local");
  ~StorageBackend();
  StorageBackend(const StorageBackend&) = delete;
  StorageBackend& operator=(const StorageBackend&) = delete;

  // Get-or-create. The name must be non-empty, without ':' or NUL, at most 256 bytes
  // ("INVALID_ARGUMENT").
  Result<std::shared_ptr<Collection>> collection(std::string_view name);
  // Collections holding documents, plus those opened here (sorted, unique).
  Result<std::vector<std::string>> list_collections() const;
  // Forces written data to disk (matters when the store was opened with durable = false).
  Status flush();
  // Flushes, then ends every handle. Idempotent.
  Status close();

 private:
  StorageBackend(std::unique_ptr<DocumentStore> owned, std::string node_id);

  std::shared_ptr<detail::BackendState> state_;
  mutable std::mutex handles_mu_;
  std::map<std::string, std::shared_ptr<Collection>, std::less<>> handles_;
};

}  // namespace peat::store
