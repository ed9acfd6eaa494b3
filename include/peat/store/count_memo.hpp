// CountMemo: counts the documents under a key prefix that pass a test of their content, and
// remembers each answer with a fingerprint of the stored state (DocumentStore's version = heads,
// plus sequence, sizes and Lamport value from the metadata). A later count reads the metadata
// in one transaction and loads only documents written since, so counting an unchanged
// collection costs no document load. Thread-safe.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "peat/store/document_store.hpp"

namespace peat::store {

class CountMemo {
 public:
  using Test = std::function<bool(const doc::Document&)>;
  explicit CountMemo(Test test) : test_(std::move(test)) {}

  // Documents whose key starts with `prefix` (soft-deleted ones included; the test decides)
  // that pass the test. Forgets documents that are gone.
  Result<std::size_t> count(const DocumentStore& store, std::string_view prefix);
  // Records an answer learned while reading the document (metadata read before the document).
  void remember(const std::string& key, const DocMeta& meta, bool passed);

 private:
  struct Seen {
    Bytes fingerprint;
    bool passed = false;
  };
  Test test_;
  std::mutex mu_;
  std::map<std::string, Seen, std::less<>> seen_;
};

}  // namespace peat::store
