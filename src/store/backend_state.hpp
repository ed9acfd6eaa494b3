// State shared by a StorageBackend and its Collection handles (handles may outlive the backend).
#pragma once

#include <memory>
#include <shared_mutex>
#include <string>

#include "peat/store/document_store.hpp"

namespace peat::store::detail {

struct BackendState {
  std::shared_mutex mu;            // shared by every operation, exclusive for close()
  DocumentStore* store = nullptr;  // null once closed
  std::unique_ptr<DocumentStore> owned;
  std::string node_id;
};

}  // namespace peat::store::detail
