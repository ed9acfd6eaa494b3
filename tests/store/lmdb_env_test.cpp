#include "peat/store/lmdb_env.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "store/test_dir.hpp"

namespace peat::store {
namespace {

std::string str(ByteView v) {
  return std::string(as_chars(v));
}

TEST(LmdbEnv, PutGetDeleteScanCount) {
  test::TempDir dir;
  auto env = Env::open(dir.str());
  ASSERT_TRUE(env.ok()) << env.error().to_string();
  auto db = (*env)->open_db("things");
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE((*env)
                  ->write([&](Txn& t) -> Status {
                    PEAT_TRY_STATUS(t.put(*db, as_bytes("a:1"), as_bytes("one")));
                    PEAT_TRY_STATUS(t.put(*db, as_bytes("a:2"), as_bytes("two")));
                    PEAT_TRY_STATUS(t.put(*db, as_bytes("b:1"), as_bytes("three")));
                    return {};
                  })
                  .ok());
  ASSERT_TRUE((*env)
                  ->read([&](const Txn& t) -> Status {
                    auto v = t.get(*db, as_bytes("a:2"));
                    EXPECT_TRUE(v.ok());
                    EXPECT_TRUE(v->has_value());
                    EXPECT_EQ(str(**v), "two");
                    auto missing = t.get(*db, as_bytes("zz"));
                    EXPECT_FALSE(missing->has_value());
                    std::vector<std::string> keys;
                    PEAT_TRY_STATUS(t.scan_prefix(*db, as_bytes("a:"), [&](ByteView k, ByteView) {
                      keys.push_back(str(k));
                      return true;
                    }));
                    EXPECT_EQ(keys, (std::vector<std::string>{"a:1", "a:2"}));
                    EXPECT_EQ(t.count(*db).value_or(0), 3u);
                    return {};
                  })
                  .ok());
  ASSERT_TRUE((*env)
                  ->write([&](Txn& t) -> Status {
                    auto existed = t.del(*db, as_bytes("a:1"));
                    EXPECT_TRUE(existed.ok() && *existed);
                    auto again = t.del(*db, as_bytes("a:1"));
                    EXPECT_TRUE(again.ok() && !*again);
                    return {};
                  })
                  .ok());
  (void)(*env)->read([&](const Txn& t) -> Status {
    EXPECT_EQ(t.count(*db).value_or(0), 2u);
    return {};
  });
}

TEST(LmdbEnv, FailedWriteFunctionAbortsEverything) {
  test::TempDir dir;
  auto env = Env::open(dir.str());
  auto db = (*env)->open_db("d");
  Status st = (*env)->write([&](Txn& t) -> Status {
    PEAT_TRY_STATUS(t.put(*db, as_bytes("k"), as_bytes("v")));
    return make_error("TEST_FAIL", "caller gave up");
  });
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "TEST_FAIL");
  (void)(*env)->read([&](const Txn& t) -> Status {
    EXPECT_FALSE(t.get(*db, as_bytes("k"))->has_value());
    return {};
  });
}

TEST(LmdbEnv, ReadOnlyTransactionRejectsWrites) {
  test::TempDir dir;
  auto env = Env::open(dir.str());
  auto db = (*env)->open_db("d");
  (void)(*env)->read([&](const Txn& t) -> Status {
    auto& mutable_txn = const_cast<Txn&>(t);
    Status st = mutable_txn.put(*db, as_bytes("k"), as_bytes("v"));
    EXPECT_FALSE(st.ok());
    EXPECT_EQ(st.error().code, "READ_ONLY");
    return {};
  });
}

TEST(LmdbEnv, EmptyKeyIsRejected) {
  test::TempDir dir;
  auto env = Env::open(dir.str());
  auto db = (*env)->open_db("d");
  Status st = (*env)->write([&](Txn& t) { return t.put(*db, {}, as_bytes("v")); });
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "INVALID_KEY");
}

TEST(LmdbEnv, GrowsTheMapOnMapFullAndRetries) {
  test::TempDir dir;
  EnvOptions opts;
  opts.map_size = std::size_t{1} << 20;  // LMDB's real default: 1 MiB
  auto env = Env::open(dir.str(), opts);
  ASSERT_TRUE(env.ok());
  auto db = (*env)->open_db("big");
  std::string value(1000, 'x');
  // 4000 x 1 KB values in one transaction: far more than 1 MiB.
  int runs = 0;
  Status st = (*env)->write([&](Txn& t) -> Status {
    ++runs;
    for (int i = 0; i < 4000; ++i) {
      std::string key = "key" + std::to_string(i);
      PEAT_TRY_STATUS(t.put(*db, as_bytes(key), as_bytes(value)));
    }
    return {};
  });
  ASSERT_TRUE(st.ok()) << st.error().to_string();
  EXPECT_GT(runs, 1);
  EXPECT_GT((*env)->grow_count(), 0u);
  EXPECT_GT((*env)->map_size(), opts.map_size);
  (void)(*env)->read([&](const Txn& t) -> Status {
    EXPECT_EQ(t.count(*db).value_or(0), 4000u);
    return {};
  });
}

TEST(LmdbEnv, MaxMapSizeGivesClearError) {
  test::TempDir dir;
  EnvOptions opts;
  opts.map_size = std::size_t{1} << 20;
  opts.max_map_size = std::size_t{2} << 20;
  auto env = Env::open(dir.str(), opts);
  auto db = (*env)->open_db("big");
  std::string value(1000, 'x');
  Status st = (*env)->write([&](Txn& t) -> Status {
    for (int i = 0; i < 10000; ++i) {
      std::string key = "key" + std::to_string(i);
      PEAT_TRY_STATUS(t.put(*db, as_bytes(key), as_bytes(value)));
    }
    return {};
  });
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "MAP_FULL");
}

TEST(LmdbEnv, DataSurvivesReopen) {
  test::TempDir dir;
  {
    auto env = Env::open(dir.str());
    auto db = (*env)->open_db("d");
    ASSERT_TRUE(
        (*env)->write([&](Txn& t) { return t.put(*db, as_bytes("k"), as_bytes("kept")); }).ok());
  }
  auto env = Env::open(dir.str());
  ASSERT_TRUE(env.ok());
  auto db = (*env)->open_db("d");
  (void)(*env)->read([&](const Txn& t) -> Status {
    auto v = t.get(*db, as_bytes("k"));
    EXPECT_TRUE(v.ok() && v->has_value());
    EXPECT_EQ(str(**v), "kept");
    return {};
  });
}

TEST(LmdbEnv, OpenFailsClearlyOnAFile) {
  test::TempDir dir;
  std::string file = dir.sub("plain-file");
  FILE* f = fopen(file.c_str(), "w");
  ASSERT_NE(f, nullptr);
  fclose(f);
  auto env = Env::open(file);
  ASSERT_FALSE(env.ok());
  EXPECT_FALSE(env.error().message.empty());
}

}  // namespace
}  // namespace peat::store
