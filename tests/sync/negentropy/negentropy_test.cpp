#include "peat/sync/negentropy.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "peat/common/random.hpp"
#include "peat/common/sha256.hpp"

namespace peat::sync {
namespace {

NegId random_id(Rng& rng) {
  NegId id;
  rng.fill(id);
  return id;
}

struct Outcome {
  std::set<NegId> have;
  std::set<NegId> need;
  int rounds = 0;
  std::size_t bytes = 0;
};

// Runs a full reconciliation in memory; fails the test if it does not finish in 500 rounds.
Outcome run(const NegStorage& a, const NegStorage& b, std::uint64_t limit = 0) {
  Outcome out;
  auto init = Negentropy::create(a, limit);
  auto resp = Negentropy::create(b, limit);
  EXPECT_TRUE(init.ok() && resp.ok());
  auto msg = init->initiate();
  EXPECT_TRUE(msg.ok());
  Bytes current = *msg;
  for (int round = 0; round < 500; ++round) {
    out.bytes += current.size();
    if (limit != 0) {
      EXPECT_LE(current.size(), limit);
    }
    auto reply = resp->respond(current);
    EXPECT_TRUE(reply.ok()) << reply.error().to_string();
    if (!reply.ok()) return out;
    out.bytes += reply->size();
    if (limit != 0) {
      EXPECT_LE(reply->size(), limit);
    }
    ++out.rounds;
    std::vector<NegId> have;
    std::vector<NegId> need;
    auto next = init->reconcile(*reply, have, need);
    EXPECT_TRUE(next.ok()) << next.error().to_string();
    if (!next.ok()) return out;
    out.have.insert(have.begin(), have.end());
    out.need.insert(need.begin(), need.end());
    if (!next->has_value()) return out;
    current = **next;
  }
  ADD_FAILURE() << "reconciliation did not finish";
  return out;
}

struct Sets {
  std::vector<NegItem> a;
  std::vector<NegItem> b;
  std::set<NegId> only_a;
  std::set<NegId> only_b;
};

Sets make_sets(std::uint64_t seed, std::size_t shared, std::size_t only_a, std::size_t only_b,
               bool same_timestamps = false) {
  SeededRng rng(seed);
  Sets s;
  auto item = [&] {
    NegItem it;
    it.timestamp = same_timestamps ? 1000 : 1'700'000'000 + rng.uniform(100000);
    it.id = random_id(rng);
    return it;
  };
  for (std::size_t i = 0; i < shared; ++i) {
    NegItem it = item();
    s.a.push_back(it);
    s.b.push_back(it);
  }
  for (std::size_t i = 0; i < only_a; ++i) {
    NegItem it = item();
    s.a.push_back(it);
    s.only_a.insert(it.id);
  }
  for (std::size_t i = 0; i < only_b; ++i) {
    NegItem it = item();
    s.b.push_back(it);
    s.only_b.insert(it.id);
  }
  return s;
}

TEST(NegentropyVarint, MatchesReferenceEncoding) {
  Bytes out;
  neg_encode_varint(0, out);
  EXPECT_EQ(out, Bytes{0x00});
  out.clear();
  neg_encode_varint(127, out);
  EXPECT_EQ(out, Bytes{0x7F});
  out.clear();
  neg_encode_varint(128, out);
  EXPECT_EQ(out, (Bytes{0x81, 0x00}));
  out.clear();
  neg_encode_varint(300, out);
  EXPECT_EQ(out, (Bytes{0x82, 0x2C}));
}

TEST(NegentropyFingerprint, IsSha256OfSumAndCount) {
  NegId one{};
  one[0] = 1;
  NegId max{};
  max.fill(0xFF);
  NegAccumulator acc;
  acc.add(one);
  acc.add(max);  // 1 + (2^256 - 1) = 0 mod 2^256
  Bytes input(32, 0);
  input.push_back(2);
  Sha256Digest d = Sha256::digest(input);
  NegFingerprint fp = acc.fingerprint(2);
  EXPECT_TRUE(std::equal(fp.begin(), fp.end(), d.begin()));
}

TEST(NegentropyFingerprint, PrefixSumsMatchDirectSums) {
  SeededRng rng(7);
  std::vector<NegItem> items;
  for (int i = 0; i < 100; ++i) items.push_back({static_cast<std::uint64_t>(i), random_id(rng)});
  auto v = NegVector::build(items);
  ASSERT_TRUE(v.ok());
  NegAccumulator acc;
  for (std::size_t i = 10; i < 60; ++i) acc.add(v->item(i).id);
  EXPECT_EQ(v->fingerprint(10, 60), acc.fingerprint(50));
}

TEST(NegentropyStorage, RejectsDuplicates) {
  NegItem it{5, {}};
  auto v = NegVector::build({it, it});
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().code, "DUPLICATE_ITEM");
}

TEST(NegentropyStorage, SubRangeReconcilesOnlyItsWindow) {
  // Same items in [1000, 2000) on both sides; differences only outside the window.
  SeededRng rng(5);
  std::vector<NegItem> a;
  std::vector<NegItem> b;
  for (int i = 0; i < 3000; ++i) {
    NegItem it{static_cast<std::uint64_t>(i), random_id(rng)};
    bool in_window = i >= 1000 && i < 2000;
    if (in_window || i % 2 == 0) a.push_back(it);
    if (in_window || i % 3 == 0) b.push_back(it);
  }
  auto va = NegVector::build(a);
  auto vb = NegVector::build(b);
  Outcome whole = run(*va, *vb);
  EXPECT_FALSE(whole.have.empty());
  auto wa = NegSubRange::time_window(*va, 1000, 2000);
  auto wb = NegSubRange::time_window(*vb, 1000, 2000);
  EXPECT_EQ(wa.size(), 1000u);
  EXPECT_EQ(wb.size(), 1000u);
  Outcome window = run(wa, wb);
  EXPECT_TRUE(window.have.empty());
  EXPECT_TRUE(window.need.empty());
  EXPECT_EQ(window.rounds, 1);
  EXPECT_FALSE(NegSubRange::create(*va, 5, 4).ok());
  EXPECT_FALSE(NegSubRange::create(*va, 0, va->size() + 1).ok());
  EXPECT_EQ(NegSubRange::time_window(*va, 10, 10).size(), 0u);
}

TEST(Negentropy, InitialMessageLayoutForSmallSet) {
  NegId id{};
  id.fill(0xAB);
  auto v = NegVector::build({{10, id}});
  auto n = Negentropy::create(*v);
  auto msg = n->initiate();
  ASSERT_TRUE(msg.ok());
  // version, bound(infinity: ts 0, idlen 0), mode IdList, count 1, id
  Bytes expected(id.begin(), id.end());
  const Bytes header{0x61, 0x00, 0x00, 0x02, 0x01};
  expected.insert(expected.begin(), header.begin(), header.end());
  EXPECT_EQ(*msg, expected);
}

TEST(Negentropy, BothEmpty) {
  auto a = NegVector::build({});
  auto b = NegVector::build({});
  Outcome o = run(*a, *b);
  EXPECT_TRUE(o.have.empty());
  EXPECT_TRUE(o.need.empty());
  EXPECT_EQ(o.rounds, 1);
}

TEST(Negentropy, OneSideEmpty) {
  Sets s = make_sets(1, 0, 500, 0);
  auto a = NegVector::build(s.a);
  auto b = NegVector::build(s.b);
  Outcome o = run(*a, *b);
  EXPECT_TRUE(o.have == s.only_a);
  EXPECT_TRUE(o.need.empty());
  Outcome r = run(*b, *a);
  EXPECT_TRUE(r.have.empty());
  EXPECT_TRUE(r.need == s.only_a);
}

TEST(Negentropy, IdenticalSetsFinishInOneRound) {
  Sets s = make_sets(2, 10000, 0, 0);
  auto a = NegVector::build(s.a);
  auto b = NegVector::build(s.b);
  Outcome o = run(*a, *b);
  EXPECT_TRUE(o.have.empty());
  EXPECT_TRUE(o.need.empty());
  EXPECT_EQ(o.rounds, 1);
  EXPECT_LT(o.bytes, 2000u);
}

TEST(Negentropy, RandomSetsWithKnownDifferences) {
  for (std::uint64_t seed = 10; seed < 16; ++seed) {
    SeededRng pick(seed);
    std::size_t shared = 100 + pick.uniform(5000);
    std::size_t only_a = pick.uniform(200);
    std::size_t only_b = pick.uniform(200);
    Sets s = make_sets(seed, shared, only_a, only_b, seed % 2 == 0);
    auto a = NegVector::build(s.a);
    auto b = NegVector::build(s.b);
    Outcome o = run(*a, *b);
    EXPECT_TRUE(o.have == s.only_a) << "seed " << seed;
    EXPECT_TRUE(o.need == s.only_b) << "seed " << seed;
  }
}

TEST(Negentropy, FrameSizeLimitIsRespectedAndStillExact) {
  Sets s = make_sets(20, 20000, 600, 600);
  auto a = NegVector::build(s.a);
  auto b = NegVector::build(s.b);
  Outcome o = run(*a, *b, 4096);
  EXPECT_TRUE(o.have == s.only_a);
  EXPECT_TRUE(o.need == s.only_b);
  EXPECT_GT(o.rounds, 3);
}

TEST(Negentropy, RejectsTooSmallFrameLimit) {
  auto a = NegVector::build({});
  auto n = Negentropy::create(*a, 1000);
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.error().code, "INVALID_ARGUMENT");
}

TEST(Negentropy, ResponderNegotiatesUnknownVersion) {
  auto a = NegVector::build({});
  auto n = Negentropy::create(*a);
  auto reply = n->respond(Bytes{0x62, 0x00});
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(*reply, Bytes{0x61});
  auto bad = n->respond(Bytes{0x10});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, "NEGENTROPY_DECODE");
}

TEST(Negentropy, InitiatorRejectsOtherVersion) {
  auto a = NegVector::build({});
  auto n = Negentropy::create(*a);
  ASSERT_TRUE(n->initiate().ok());
  std::vector<NegId> have, need;
  auto r = n->reconcile(Bytes{0x62}, have, need);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "NEGENTROPY_VERSION");
}

TEST(Negentropy, RoleMisuseIsAnError) {
  auto a = NegVector::build({});
  auto n = Negentropy::create(*a);
  std::vector<NegId> have, need;
  EXPECT_FALSE(n->reconcile(Bytes{0x61}, have, need).ok());
  ASSERT_TRUE(n->initiate().ok());
  EXPECT_FALSE(n->initiate().ok());
  EXPECT_FALSE(n->respond(Bytes{0x61}).ok());
}

TEST(Negentropy, MalformedMessagesAreErrors) {
  Sets s = make_sets(3, 100, 0, 0);
  auto a = NegVector::build(s.a);
  const Bytes cases[] = {
      {},                                    // empty
      {0x61, 0x00},                          // bound without id length
      {0x61, 0x00, 0x21},                    // id prefix of 33 bytes
      {0x61, 0x00, 0x02, 0xAA},              // prefix shorter than declared
      {0x61, 0x00, 0x00, 0x07},              // unknown mode
      {0x61, 0x00, 0x00, 0x01, 0x01},        // fingerprint truncated
      {0x61, 0x00, 0x00, 0x02, 0x05, 0x00},  // id list count beyond the message
      {0x61, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01},  // varint
  };
  for (const Bytes& c : cases) {
    auto n = Negentropy::create(*a);
    auto r = n->respond(c);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, "NEGENTROPY_DECODE");
  }
}

TEST(Negentropy, RandomBytesNeverCrash) {
  Sets s = make_sets(4, 300, 0, 0);
  auto a = NegVector::build(s.a);
  SeededRng rng(99);
  for (int i = 0; i < 2000; ++i) {
    Bytes msg(1 + rng.uniform(200));
    rng.fill(msg);
    msg[0] = 0x61;
    auto n = Negentropy::create(*a);
    (void)n->respond(msg);
  }
}

}  // namespace
}  // namespace peat::sync
