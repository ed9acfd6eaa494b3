// End to end over two document stores: negentropy on DocStore::sync_items finds exactly the
// documents whose state differs; shipping them with merge_bytes makes the stores equal.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "peat/store/document_store.hpp"
#include "peat/sync/negentropy.hpp"
#include "store/test_dir.hpp"

namespace peat::sync {
namespace {

using nlohmann::json;
using store::DocumentStore;

struct Side {
  test::TempDir dir;
  std::unique_ptr<DocumentStore> store;
  explicit Side(std::uint8_t actor) {
    store = std::move(DocumentStore::open(dir.str(), doc::ActorId(16, actor)).value());
  }
  // Items for negentropy and the id -> key map the sync layer keeps.
  NegVector items(std::map<NegId, std::string>& keys) const {
    std::vector<NegItem> out;
    auto listed = store->base().sync_items("tracks:");
    EXPECT_TRUE(listed.ok());
    if (!listed.ok()) return std::move(NegVector::build({}).value());
    for (const auto& it : *listed) {
      out.push_back({it.timestamp, it.id});
      keys[it.id] = it.key;
    }
    return std::move(NegVector::build(std::move(out)).value());
  }
};

TEST(StoreReconcile, FindsExactlyTheDifferingDocumentsAndConverges) {
  Side a(1);
  Side b(2);
  constexpr std::uint64_t kNow = 1'700'000'000'000;
  // 200 shared documents (b receives a's bytes, so states are identical).
  for (int i = 0; i < 200; ++i) {
    std::string key = "tracks:t" + std::to_string(i);
    ASSERT_TRUE(a.store->put_json(key, json{{"i", i}}, kNow).ok());
    auto d = a.store->get(key).value();
    ASSERT_TRUE(b.store->merge_bytes(key, d->save(), kNow).ok());
  }
  // Differences: 3 only on a, 2 only on b, 4 edited on a after sharing.
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(a.store->put_json("tracks:a" + std::to_string(i), json{{"a", i}}, kNow).ok());
  }
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(b.store->put_json("tracks:b" + std::to_string(i), json{{"b", i}}, kNow).ok());
  }
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(a.store->put_json("tracks:t" + std::to_string(i * 10), json{{"i", -1}}, kNow).ok());
  }

  std::map<NegId, std::string> keys_a;
  std::map<NegId, std::string> keys_b;
  NegVector va = a.items(keys_a);
  NegVector vb = b.items(keys_b);
  auto init = Negentropy::create(va).value();
  auto resp = Negentropy::create(vb).value();
  std::vector<NegId> have;
  std::vector<NegId> need;
  std::optional<Bytes> msg = init.initiate().value();
  for (int round = 0; round < 20 && msg; ++round) {
    msg = init.reconcile(resp.respond(*msg).value(), have, need).value();
  }
  ASSERT_FALSE(msg.has_value());

  // a maps `have` itself; `need` ids are only known to b (a sends them back to b).
  std::set<std::string> a_sends;
  std::set<std::string> b_sends;
  for (const NegId& id : have) a_sends.insert(keys_a.at(id));
  for (const NegId& id : need) b_sends.insert(keys_b.at(id));
  EXPECT_EQ(a_sends, (std::set<std::string>{"tracks:a0", "tracks:a1", "tracks:a2", "tracks:t0",
                                            "tracks:t10", "tracks:t20", "tracks:t30"}));
  // b's stale copies of the four edited documents differ too, and b's own documents.
  EXPECT_EQ(b_sends, (std::set<std::string>{"tracks:b0", "tracks:b1", "tracks:t0", "tracks:t10",
                                            "tracks:t20", "tracks:t30"}));

  for (const std::string& key : a_sends) {
    ASSERT_TRUE(b.store->merge_bytes(key, a.store->get(key).value()->save(), kNow).ok());
  }
  for (const std::string& key : b_sends) {
    ASSERT_TRUE(a.store->merge_bytes(key, b.store->get(key).value()->save(), kNow).ok());
  }
  std::map<NegId, std::string> after_a;
  std::map<NegId, std::string> after_b;
  EXPECT_EQ(a.items(after_a).items(), b.items(after_b).items());
  EXPECT_EQ(a.store->get_json("tracks:t10").value().value(), (json{{"i", -1}}));
}

}  // namespace
}  // namespace peat::sync
