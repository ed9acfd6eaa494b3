// Fixture: two DocumentStores (actors A1 and B2) in a fresh directory, and send(), which moves
// one store's copy of a document to the other as the sync layer would (merge_bytes).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "peat/store/document_store.hpp"
#include "store/test_dir.hpp"

namespace peat::store::test_support {

inline constexpr UnixMillis kT0 = 1'700'000'000'000;

class TwoStoresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto a = DocumentStore::open(dir_.sub("a"), doc::ActorId(16, 0xA1));
    auto b = DocumentStore::open(dir_.sub("b"), doc::ActorId(16, 0xB2));
    ASSERT_TRUE(a.ok() && b.ok());
    a_ = std::move(*a);
    b_ = std::move(*b);
  }
  static void send(DocumentStore& from, DocumentStore& to, const std::string& key) {
    auto saved = from.base().read(key);
    ASSERT_TRUE(saved.ok() && saved->has_value()) << key;
    Status merged = to.merge_bytes(key, **saved, kT0 + 1000);
    ASSERT_TRUE(merged.ok()) << key << ": " << merged.error().to_string();
  }
  test::TempDir dir_;
  std::unique_ptr<DocumentStore> a_, b_;
};

}  // namespace peat::store::test_support
