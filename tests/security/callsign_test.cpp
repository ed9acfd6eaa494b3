#include <gtest/gtest.h>

#include <set>

#include "peat/common/random.hpp"
#include "peat/security/callsign.hpp"

namespace peat::security {
namespace {

TEST(Callsign, Constants) {
  EXPECT_EQ(kNatoAlphabet.size(), 26u);
  EXPECT_EQ(Callsign::kTotal, 2600u);
  EXPECT_EQ(Callsign::kMaxLength, std::string_view("NOVEMBER-99").size());
  EXPECT_EQ(kNatoAlphabet[23], "XRAY");
}

TEST(Callsign, ParseExamples) {
  auto a = Callsign::parse("ALPHA-00");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->word, 0);
  EXPECT_EQ(a->number, 0);
  auto z = Callsign::parse("ZULU-99");
  ASSERT_TRUE(z.ok());
  EXPECT_EQ(z->word, 25);
  EXPECT_EQ(z->number, 99);
  auto n = Callsign::parse("  november-42 ");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->word, 13);
  EXPECT_EQ(n->number, 42);
  EXPECT_EQ(n->to_string(), "NOVEMBER-42");
}

TEST(Callsign, ParseRejectsInvalid) {
  for (std::string_view bad :
       {"INVALID", "ALPHA-100", "ALPHA-1", "BADWORD-01", "ALPHA-+5", "ALPHA--5", "ALPHA 05", "-05",
        "", "ALPHA-0A", "ALPHAA-05", "NOVEMBER-999", "\xff\xfe-01"}) {
    auto r = Callsign::parse(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, "INVALID_CALLSIGN");
  }
}

TEST(CallsignGenerator, GeneratesUniqueWellFormed) {
  SeededRng rng(5);
  CallsignGenerator gen(rng);
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    auto cs = gen.generate();
    ASSERT_TRUE(cs.ok());
    std::string text = cs->to_string();
    EXPECT_TRUE(Callsign::parse(text).ok()) << text;
    EXPECT_TRUE(seen.insert(text).second) << text;
  }
  EXPECT_EQ(gen.used_count(), 100u);
  EXPECT_EQ(gen.available_count(), 2500u);
}

TEST(CallsignGenerator, ReserveReleaseAvailability) {
  SeededRng rng(1);
  CallsignGenerator gen(rng);
  EXPECT_TRUE(gen.is_available("ALPHA-01"));
  ASSERT_TRUE(gen.reserve("ALPHA-01").ok());
  EXPECT_FALSE(gen.is_available("alpha-01"));
  auto dup = gen.reserve("alpha-01");
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, "CALLSIGN_IN_USE");
  EXPECT_EQ(gen.reserve("NOPE-01").error().code, "INVALID_CALLSIGN");
  EXPECT_FALSE(gen.is_available("NOPE-01"));
  EXPECT_TRUE(gen.release("ALPHA-01"));
  EXPECT_FALSE(gen.release("ALPHA-01"));
  EXPECT_FALSE(gen.release("garbage"));
  EXPECT_TRUE(gen.is_available("ALPHA-01"));
}

TEST(CallsignGenerator, ExhaustsAfterAll2600) {
  SeededRng rng(2);
  CallsignGenerator gen(rng);
  for (std::size_t i = 0; i < Callsign::kTotal; ++i) ASSERT_TRUE(gen.generate().ok()) << i;
  auto none = gen.generate();
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, "CALLSIGNS_EXHAUSTED");
  EXPECT_TRUE(gen.release("KILO-10"));
  auto last = gen.generate();
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(last->to_string(), "KILO-10");
}

}  // namespace
}  // namespace peat::security
