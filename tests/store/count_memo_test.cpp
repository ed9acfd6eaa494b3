#include "peat/store/count_memo.hpp"

#include <gtest/gtest.h>

#include "store/two_stores.hpp"

namespace peat::store {
namespace {

using test_support::kT0;

class CountMemoTest : public test_support::TwoStoresTest {
 protected:
  // Counts documents with a true "on" field, and how many documents it had to load.
  CountMemo memo_{[this](const doc::Document& d) {
    ++loads_;
    auto v = d.get(doc::kRoot, std::string("on"));
    return v && std::get<doc::ScalarValue>(*v) == doc::ScalarValue(true);
  }};
  int loads_ = 0;
};

TEST_F(CountMemoTest, LoadsOnlyDocumentsWrittenSinceTheLastCount) {
  ASSERT_TRUE(a_->put_json("c:1", {{"on", true}}, kT0).ok());
  ASSERT_TRUE(a_->put_json("c:2", {{"on", false}}, kT0).ok());
  ASSERT_TRUE(a_->put_json("c:3", {{"on", true}}, kT0).ok());
  ASSERT_TRUE(a_->put_json("d:1", {{"on", true}}, kT0).ok());  // other prefix
  EXPECT_EQ(*memo_.count(*a_, "c:"), 2u);
  EXPECT_EQ(loads_, 3);
  EXPECT_EQ(*memo_.count(*a_, "c:"), 2u);
  EXPECT_EQ(loads_, 3);  // nothing changed, nothing loaded

  ASSERT_TRUE(a_->put_json("c:2", {{"on", true}}, kT0 + 1).ok());
  EXPECT_EQ(*memo_.count(*a_, "c:"), 3u);
  EXPECT_EQ(loads_, 4);
  // An unchanged put adds no change, so the stored state (and its fingerprint) is the same.
  ASSERT_TRUE(a_->put_json("c:2", {{"on", true}}, kT0 + 2).ok());
  EXPECT_EQ(*memo_.count(*a_, "c:"), 3u);
  EXPECT_EQ(loads_, 4);

  // A peer's edit arriving by merge is a new state too.
  send(*a_, *b_, "c:3");
  ASSERT_TRUE(b_->put_json("c:3", {{"on", false}}, kT0 + 3).ok());
  send(*b_, *a_, "c:3");
  const int before = loads_;
  EXPECT_EQ(*memo_.count(*a_, "c:"), 2u);
  EXPECT_EQ(loads_, before + 1);

  ASSERT_TRUE(*a_->base().remove("c:1"));
  EXPECT_EQ(*memo_.count(*a_, "c:"), 1u);
  EXPECT_EQ(loads_, before + 1);  // a removed document needs no load
}

TEST_F(CountMemoTest, RememberedAnswersAreUsedUntilTheDocumentChanges) {
  ASSERT_TRUE(a_->put_json("c:1", {{"on", true}}, kT0).ok());
  auto meta = a_->base().meta("c:1");
  ASSERT_TRUE(meta.ok() && meta->has_value());
  memo_.remember("c:1", **meta, true);  // e.g. learned during a scan
  EXPECT_EQ(*memo_.count(*a_, "c:"), 1u);
  EXPECT_EQ(loads_, 0);
  ASSERT_TRUE(a_->put_json("c:1", {{"on", false}}, kT0 + 1).ok());
  EXPECT_EQ(*memo_.count(*a_, "c:"), 0u);
  EXPECT_EQ(loads_, 1);
}

}  // namespace
}  // namespace peat::store
