#include "peat/sync/reconciler.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "peat/common/sha256.hpp"

namespace peat::sync {
namespace {

ReconcileItem item(const std::string& key, const std::string& version, std::uint64_t ts) {
  return {key, ts, Sha256::digest(as_bytes(key + "|" + version))};
}

struct Outcome {
  std::set<std::string> initiator_has;  // initiator's keys the responder lacks
  std::set<std::string> responder_has;  // responder's keys the initiator lacks
  std::uint64_t rounds = 0;
  std::size_t bytes = 0;
};

Outcome run(std::vector<ReconcileItem> a, std::vector<ReconcileItem> b, std::uint64_t limit) {
  auto ra = Reconciler::create(std::move(a), limit);
  auto rb = Reconciler::create(std::move(b), limit);
  EXPECT_TRUE(ra.ok() && rb.ok());
  Outcome out;
  std::vector<NegId> need;
  auto msg = ra->initiate();
  EXPECT_TRUE(msg.ok());
  Bytes m = *msg;
  for (int i = 0; i < 100; ++i) {
    out.bytes += m.size();
    auto reply = rb->respond(m);
    EXPECT_TRUE(reply.ok());
    out.bytes += reply->size();
    auto step = ra->on_reply(*reply);
    EXPECT_TRUE(step.ok());
    out.initiator_has.insert(step->have_keys.begin(), step->have_keys.end());
    need.insert(need.end(), step->need_ids.begin(), step->need_ids.end());
    if (!step->next) break;
    m = *step->next;
  }
  for (const auto& k : rb->keys_for(need)) out.responder_has.insert(k);
  out.rounds = ra->rounds();
  return out;
}

TEST(Reconciler, FindsDifferencesInBothDirections) {
  std::vector<ReconcileItem> a, b;
  for (int i = 0; i < 200; ++i) {
    std::string k = "c:" + std::to_string(i);
    a.push_back(item(k, "v1", 10));
    b.push_back(item(k, i == 7 ? "v2" : "v1", i == 7 ? 11 : 10));  // diverged version
  }
  a.push_back(item("c:only-a", "v", 3));
  b.push_back(item("c:only-b", "v", 4));
  auto o = run(a, b, 0);
  EXPECT_EQ(o.initiator_has, (std::set<std::string>{"c:7", "c:only-a"}));
  EXPECT_EQ(o.responder_has, (std::set<std::string>{"c:7", "c:only-b"}));
}

TEST(Reconciler, MultiRoundWithSmallFrames) {
  std::vector<ReconcileItem> a, b;
  for (int i = 0; i < 20000; ++i) {
    std::string k = "d:" + std::to_string(i);
    a.push_back(item(k, "v", static_cast<std::uint64_t>(i)));
    if (i % 1000 != 0) b.push_back(item(k, "v", static_cast<std::uint64_t>(i)));
  }
  auto o = run(a, b, 4096);
  EXPECT_EQ(o.initiator_has.size(), 20u);
  EXPECT_TRUE(o.responder_has.empty());
  EXPECT_GT(o.rounds, 1u);
}

TEST(Reconciler, IdenticalSetsOneRoundTrip) {
  std::vector<ReconcileItem> a;
  for (int i = 0; i < 1000; ++i) a.push_back(item("e:" + std::to_string(i), "v", 1));
  auto o = run(a, a, 0);
  EXPECT_TRUE(o.initiator_has.empty());
  EXPECT_TRUE(o.responder_has.empty());
  EXPECT_EQ(o.rounds, 1u);
}

TEST(Reconciler, RejectsGarbageAndDuplicates) {
  auto r = Reconciler::create({item("a:1", "v", 1)}, 0);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->respond(Bytes{0x61, 0xFF, 0xFF}).ok());
  auto dup = Reconciler::create({item("a:1", "v", 1), item("a:1", "v", 1)}, 0);
  EXPECT_FALSE(dup.ok());
  EXPECT_FALSE(Reconciler::create({}, 100).ok());  // frame limit below 4096
}

}  // namespace
}  // namespace peat::sync
