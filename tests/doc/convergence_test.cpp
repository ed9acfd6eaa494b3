// Randomised convergence: replicas make random concurrent edits (maps, lists, text, counters,
// deletes), exchange changes in random order, and must end identical; every document must
// survive save/load byte-for-byte.
#include <gtest/gtest.h>

#include <random>

#include "peat/doc/document.hpp"

namespace peat::doc {
namespace {

class Replicas {
 public:
  explicit Replicas(std::uint32_t seed) : rng_(seed) {
    docs_.emplace_back(Bytes{0x0a});
    text_ = *docs_[0].put_object(kRoot, "text", ObjType::kText);
    list_ = *docs_[0].put_object(kRoot, "list", ObjType::kList);
    EXPECT_TRUE(docs_[0].splice_text(text_, 0, 0, "seed").ok());
    docs_[0].commit();
    for (std::uint8_t a : {0x0b, 0x01, 0xff}) docs_.push_back(docs_[0].fork(Bytes{a, a}));
  }

  void random_edit(Document& d) {
    static const char* kKeys[] = {"a", "b", "\xc3\xa4", "zz"};
    static const char* kChars[] = {"x", "\xc3\xa9", "\xf0\x9f\x98\x80", " "};
    std::string key = kKeys[pick(4)];
    switch (pick(9)) {
      case 0:
        EXPECT_TRUE(d.put(kRoot, key, std::int64_t(pick(100))).ok());
        break;
      case 1:
        EXPECT_TRUE(d.put(kRoot, key, Counter{static_cast<std::int64_t>(pick(5))}).ok());
        break;
      case 2:
        (void)d.increment(
            kRoot, key, static_cast<std::int64_t>(pick(5)) - 2);  // fails unless a counter is there
        break;
      case 3:
        EXPECT_TRUE(d.remove(kRoot, key).ok());
        break;
      case 4:
        EXPECT_TRUE(d.insert(list_, pick(d.length(list_) + 1), std::int64_t(pick(9))).ok());
        break;
      case 5:
        if (d.length(list_) > 0) {
          EXPECT_TRUE(d.remove(list_, pick(d.length(list_))).ok());
        }
        break;
      case 6:
        if (d.length(list_) > 0) {
          EXPECT_TRUE(d.put(list_, pick(d.length(list_)), std::string("s")).ok());
        }
        break;
      case 7: {
        // Insert at a character boundary.
        auto chars = d.text(text_);
        std::size_t pos = 0, units = 0, target = pick(d.length(text_) + 1);
        while (pos < chars.size() && units < target) {
          auto c = static_cast<unsigned char>(chars[pos]);
          std::size_t len = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
          units += len == 4 ? 2 : 1;
          pos += len;
        }
        EXPECT_TRUE(d.splice_text(text_, units, 0, kChars[pick(4)]).ok());
        break;
      }
      default:
        if (d.length(text_) > 0) {
          auto s = d.splice_text(text_, 0, 1, "");
          if (!s.ok()) {
            EXPECT_TRUE(d.splice_text(text_, 0, 2, "").ok());
          }
        }
        break;
    }
  }

  void run(int steps) {
    for (int i = 0; i < steps; ++i) {
      Document& d = docs_[pick(docs_.size())];
      for (std::size_t n = 1 + pick(3); n > 0; --n) random_edit(d);
      d.commit();
      if (pick(3) == 0) {
        // Ship a random subset of another replica's changes, shuffled: some wait in the queue.
        Document& other = docs_[pick(docs_.size())];
        auto changes = other.get_changes({});
        std::shuffle(changes.begin(), changes.end(), rng_);
        changes.resize(changes.size() / 2);
        EXPECT_TRUE(d.apply_changes(changes).ok());
      }
    }
    for (auto& a : docs_) {
      for (auto& b : docs_) EXPECT_TRUE(a.merge(b).ok());
    }
  }

  std::vector<Document>& docs() { return docs_; }

 private:
  std::size_t pick(std::size_t n) { return n == 0 ? 0 : rng_() % n; }
  std::mt19937 rng_;
  std::vector<Document> docs_;
  ObjId text_, list_;
};

TEST(Convergence, RandomConcurrentEditsConverge) {
  for (std::uint32_t seed = 1; seed <= 12; ++seed) {
    Replicas r(seed);
    r.run(40);
    auto& docs = r.docs();
    const auto heads = docs[0].get_heads();
    const auto json = to_json(docs[0]);
    for (auto& d : docs) {
      EXPECT_TRUE(d.get_missing_deps({}).empty()) << seed;
      EXPECT_EQ(d.get_heads(), heads) << seed;
      EXPECT_EQ(to_json(d), json) << seed;
    }
    // Change rows follow each replica's application order, so compare a replica with its
    // own reload.
    const auto bytes = docs[1].save_nocompress();
    auto loaded = Document::load(docs[1].save(), Bytes{0x55});
    ASSERT_TRUE(loaded.ok()) << seed << " " << loaded.error().to_string();
    EXPECT_EQ(to_json(*loaded), json) << seed;
    EXPECT_EQ(loaded->save_nocompress(), bytes) << seed;
    // Change chunks alone rebuild the same document.
    Document replay(Bytes{0x66});
    ASSERT_TRUE(replay.apply_changes(docs[2].get_changes({})).ok());
    EXPECT_EQ(to_json(replay), json) << seed;
  }
}

}  // namespace
}  // namespace peat::doc
