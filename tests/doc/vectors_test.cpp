// Byte-exact checks against @automerge/automerge 3.5.0 output (see vectors_data.hpp).
#include <gtest/gtest.h>

#include "peat/common/bytes.hpp"
#include "peat/doc/document.hpp"
#include "vectors_data.hpp"

namespace peat::doc {
namespace {

Bytes hex(const std::string& s) {
  return from_hex(s).value();
}

std::string hexs(const std::vector<ChangeHash>& hs) {
  std::string out;
  for (const auto& h : hs) out += to_hex(h) + ",";
  return out;
}

class Vectors : public ::testing::TestWithParam<testdata::Vector> {};

TEST_P(Vectors, LoadSavedDocumentMatchesJs) {
  const auto& v = GetParam();
  auto doc = Document::load(hex(v.save), hex("ffff0000"));
  ASSERT_TRUE(doc.ok()) << doc.error().to_string();
  EXPECT_EQ(to_json(*doc), v.json);
  std::string want_heads;
  for (const auto& h : v.heads) want_heads += h + ",";
  EXPECT_EQ(hexs(doc->get_heads()), want_heads);
  // Rebuilt changes are byte-identical to the JS change chunks.
  auto changes = doc->get_changes({});
  ASSERT_EQ(changes.size(), v.changes.size());
  for (std::size_t i = 0; i < changes.size(); ++i) {
    EXPECT_EQ(to_hex(changes[i]), v.changes[i]) << "change " << i;
  }
  // Re-saving without compression gives JS's saveNoCompress bytes.
  EXPECT_EQ(to_hex(doc->save_nocompress()), v.nocompress);
}

TEST_P(Vectors, ApplyingJsChangesRebuildsTheSameDocument) {
  const auto& v = GetParam();
  Document doc(hex("ffff0000"));
  std::vector<Bytes> changes;
  for (const auto& c : v.changes) changes.push_back(hex(c));
  ASSERT_TRUE(doc.apply_changes(changes).ok());
  EXPECT_EQ(to_json(doc), v.json);
  EXPECT_EQ(to_hex(doc.save_nocompress()), v.nocompress);

  // Reverse order: everything waits in the queue until its deps arrive.
  Document rev(hex("ffff0001"));
  std::reverse(changes.begin(), changes.end());
  ASSERT_TRUE(rev.apply_changes(changes).ok());
  EXPECT_EQ(to_json(rev), v.json);
  EXPECT_TRUE(rev.get_missing_deps({}).empty());
  EXPECT_EQ(rev.get_heads(), doc.get_heads());
  auto reloaded = Document::load(doc.save(), hex("01"));
  ASSERT_TRUE(reloaded.ok()) << reloaded.error().to_string();
  EXPECT_EQ(to_hex(reloaded->save_nocompress()), v.nocompress);
}

INSTANTIATE_TEST_SUITE_P(Js, Vectors, ::testing::ValuesIn(testdata::vectors()),
                         [](const auto& p) { return std::string(p.param.name); });

const testdata::Vector& vec(const std::string& name) {
  for (const auto& v : testdata::vectors()) {
    if (v.name == name) return v;
  }
  throw std::runtime_error("no vector " + name);
}

std::vector<std::string> change_hexes(Document& d) {
  std::vector<std::string> out;
  for (const auto& c : d.get_changes({})) out.push_back(to_hex(c));
  return out;
}

// The same edits made through this API produce JS's exact change bytes and document.
TEST(AuthoredVectors, MapSet) {
  Document d(hex("aaaa"));
  ASSERT_TRUE(d.put(kRoot, "x", std::int64_t{1}).ok());
  auto h = d.commit();
  ASSERT_TRUE(h);
  EXPECT_EQ(to_hex(*h), "221120a4c5f1bd0b507beb771b9e20c59bce1c97b23be4f1de9fbe36ea849e6c");
  EXPECT_EQ(change_hexes(d), vec("map_set").changes);
  EXPECT_EQ(to_hex(d.save()), vec("map_set").save);
}

TEST(AuthoredVectors, Text) {
  Document d(hex("bbbb"));
  auto t = d.put_object(kRoot, "t", ObjType::kText);
  ASSERT_TRUE(t.ok());
  ASSERT_TRUE(d.splice_text(*t, 0, 0, "hi").ok());
  d.commit();
  EXPECT_EQ(change_hexes(d), vec("text_hi").changes);
  EXPECT_EQ(to_hex(d.save_nocompress()), vec("text_hi").nocompress);
}

TEST(AuthoredVectors, Counter) {
  Document d(hex("cccc"));
  ASSERT_TRUE(d.put(kRoot, "c", Counter{5}).ok());
  d.commit();
  ASSERT_TRUE(d.increment(kRoot, "c", 3).ok());
  d.commit();
  EXPECT_EQ(change_hexes(d), vec("counter").changes);
  EXPECT_EQ(to_hex(d.save_nocompress()), vec("counter").nocompress);
  EXPECT_EQ(to_json(d), "{\"c\":8}");
}

TEST(AuthoredVectors, Scalars) {
  Document d(hex("dddd"));
  ASSERT_TRUE(d.put(kRoot, "s", std::string("hello")).ok());
  ASSERT_TRUE(d.put(kRoot, "f", 1.5).ok());
  ASSERT_TRUE(d.put(kRoot, "u", std::uint64_t{300}).ok());
  ASSERT_TRUE(d.put(kRoot, "n", Null{}).ok());
  ASSERT_TRUE(d.put(kRoot, "b", true).ok());
  ASSERT_TRUE(d.put(kRoot, "ts", Timestamp{1000}).ok());
  ASSERT_TRUE(d.put(kRoot, "i", std::int64_t{-2}).ok());
  ASSERT_TRUE(d.put(kRoot, "by", Bytes{1, 2, 3}).ok());
  d.commit();
  EXPECT_EQ(change_hexes(d), vec("scalars").changes);
  EXPECT_EQ(to_hex(d.save_nocompress()), vec("scalars").nocompress);
}

TEST(AuthoredVectors, TextWithNonBmpCharacters) {
  Document d(hex("eeee"));
  auto t = d.put_object(kRoot, "t", ObjType::kText);
  ASSERT_TRUE(t.ok());
  ASSERT_TRUE(d.splice_text(*t, 0, 0,
                            "a\xF0\x9F\x98\x80"
                            "b")
                  .ok());
  d.commit();
  EXPECT_EQ(d.length(*t), 4u);  // UTF-16 units
  ASSERT_TRUE(d.splice_text(*t, 1, 2, "\xC3\xA7").ok());
  d.commit(CommitOptions{"edit", 0});
  ASSERT_TRUE(d.splice_text(*t, 2, 1, "\xF0\x9D\x84\x9Ex").ok());
  d.commit(CommitOptions{std::nullopt, 12345});
  EXPECT_EQ(change_hexes(d), vec("text_emoji").changes);
  EXPECT_EQ(to_hex(d.save_nocompress()), vec("text_emoji").nocompress);
  EXPECT_EQ(d.length(*t), 5u);
  // Splitting a surrogate pair is refused.
  EXPECT_FALSE(d.splice_text(*t, 3, 0, "q").ok());
}

TEST(AuthoredVectors, NestedObjectsAndDeletes) {
  Document d(hex("ffff"));
  auto m = d.put_object(kRoot, "m", ObjType::kMap);
  ASSERT_TRUE(m.ok());
  ASSERT_TRUE(d.put(*m, "a", std::int64_t{1}).ok());
  auto b = d.put_object(*m, "b", ObjType::kMap);
  ASSERT_TRUE(b.ok());
  auto c = d.put_object(*b, "c", ObjType::kList);
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(d.insert(*c, 0, std::int64_t{1}).ok());
  ASSERT_TRUE(d.insert(*c, 1, std::int64_t{2}).ok());
  auto z = d.insert_object(*c, 2, ObjType::kMap);
  ASSERT_TRUE(z.ok());
  auto zt = d.put_object(*z, "z", ObjType::kText);  // JS strings are text objects
  ASSERT_TRUE(zt.ok());
  ASSERT_TRUE(d.splice_text(*zt, 0, 0, "q").ok());
  ASSERT_TRUE(d.put(kRoot, "del", std::int64_t{5}).ok());
  auto l = d.put_object(kRoot, "list", ObjType::kList);
  ASSERT_TRUE(l.ok());
  std::vector<ObjId> items;
  for (std::size_t i = 0; i < 3; ++i) {
    auto it = d.insert_object(*l, i, ObjType::kText);
    ASSERT_TRUE(it.ok());
    items.push_back(*it);
  }
  for (std::size_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(d.splice_text(items[i], 0, 0, std::string(1, static_cast<char>('x' + i))).ok());
  }
  d.commit();
  ASSERT_TRUE(d.remove(kRoot, "del").ok());
  auto y = d.put_object(*l, std::size_t{1}, ObjType::kText);
  ASSERT_TRUE(y.ok());
  ASSERT_TRUE(d.splice_text(*y, 0, 0, "Y").ok());
  ASSERT_TRUE(d.remove(*l, std::size_t{0}).ok());
  ASSERT_TRUE(d.remove(*m, "a").ok());
  ASSERT_TRUE(d.insert(*c, 3, std::int64_t{4}).ok());
  d.commit();
  EXPECT_EQ(to_json(d), vec("nested").json);
  EXPECT_EQ(change_hexes(d), vec("nested").changes);
  EXPECT_EQ(to_hex(d.save_nocompress()), vec("nested").nocompress);
}

}  // namespace
}  // namespace peat::doc
