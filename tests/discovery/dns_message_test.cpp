#include "peat/discovery/dns_message.hpp"

#include <gtest/gtest.h>

#include "peat/common/random.hpp"

namespace peat::discovery::dns {
namespace {

Name name(const char* text) {
  return *Name::parse(text);
}

Message sample() {
  Message m;
  m.flags = kResponseFlags;
  ResourceRecord ptr;
  ptr.name = name("_peat._udp.local.");
  ptr.type = static_cast<std::uint16_t>(RecordType::kPtr);
  ptr.ttl = 4500;
  ptr.data = name("peat-n1._peat._udp.local.");
  ResourceRecord srv;
  srv.name = name("peat-n1._peat._udp.local.");
  srv.type = static_cast<std::uint16_t>(RecordType::kSrv);
  srv.ttl = 120;
  srv.cache_flush = true;
  srv.data = SrvData{0, 0, 5000, name("n1.local.")};
  ResourceRecord txt = srv;
  txt.type = static_cast<std::uint16_t>(RecordType::kTxt);
  txt.data = TxtData{{"node_id=n1", "role=leader", "flag"}};
  ResourceRecord a;
  a.name = name("n1.local.");
  a.type = static_cast<std::uint16_t>(RecordType::kA);
  a.ttl = 120;
  a.data = AData{10, 0, 0, 1};
  ResourceRecord aaaa = a;
  aaaa.type = static_cast<std::uint16_t>(RecordType::kAaaa);
  aaaa.data = AaaaData{0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  ResourceRecord nsec = a;
  nsec.type = static_cast<std::uint16_t>(RecordType::kNsec);
  nsec.data = RawData{{0xc0, 0x0c, 0x00, 0x01, 0x40}};
  m.answers = {ptr};
  m.additionals = {srv, txt, a, aaaa, nsec};
  m.questions.push_back(Question{name("_peat._udp.local."), 12, kClassIn, true});
  return m;
}

TEST(DnsName, ParsePrintAndCompare) {
  auto n = Name::parse("peat-a\\.b._peat._udp.local.");
  ASSERT_TRUE(n);
  ASSERT_EQ(n->labels.size(), 4u);
  EXPECT_EQ(n->labels[0], "peat-a.b");
  EXPECT_EQ(n->to_string(), "peat-a\\.b._peat._udp.local.");
  EXPECT_TRUE(n->equals(*Name::parse("PEAT-A\\.B._Peat._UDP.local")));
  EXPECT_TRUE(n->ends_with(name("_peat._udp.local.")));
  EXPECT_FALSE(name("local.").ends_with(*n));
  EXPECT_EQ(Name{}.to_string(), ".");
  EXPECT_FALSE(Name::parse("a..b"));
  EXPECT_FALSE(Name::parse("a\\"));
  EXPECT_FALSE(Name::parse(std::string(64, 'x') + ".local"));
}

TEST(DnsMessage, RoundTripsEveryRecordType) {
  const Message m = sample();
  auto bytes = encode_dns_message(m);
  ASSERT_TRUE(bytes) << bytes.error().to_string();
  auto back = decode_dns_message(*bytes);
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(back->flags, m.flags);
  ASSERT_EQ(back->questions.size(), 1u);
  EXPECT_TRUE(back->questions[0].unicast_response);
  EXPECT_TRUE(back->questions[0].name.equals(m.questions[0].name));
  ASSERT_EQ(back->answers.size(), 1u);
  ASSERT_EQ(back->additionals.size(), 5u);
  EXPECT_TRUE(back->answers[0].same_record(m.answers[0]));
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_TRUE(back->additionals[i].same_record(m.additionals[i])) << i;
    EXPECT_EQ(back->additionals[i].ttl, m.additionals[i].ttl);
    EXPECT_EQ(back->additionals[i].cache_flush, m.additionals[i].cache_flush);
  }
}

TEST(DnsMessage, CompressesRepeatedSuffixes) {
  auto bytes = encode_dns_message(sample());
  ASSERT_TRUE(bytes);
  // "_peat" is written once; later names point at it.
  const std::string text(bytes->begin(), bytes->end());
  EXPECT_EQ(text.find("_peat"), text.rfind("_peat"));
  EXPECT_LT(bytes->size(), 200u);
}

TEST(DnsMessage, EncoderRejectsBadNames) {
  Message m;
  m.questions.push_back(Question{Name{{std::string(64, 'a'), "local"}}, 1, kClassIn, false});
  auto r = encode_dns_message(m);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "DNS_BAD_NAME");
  m.questions[0].name = Name{{"", "local"}};
  EXPECT_FALSE(encode_dns_message(m));
  Name big;
  for (int i = 0; i < 9; ++i) big.labels.push_back(std::string(30, 'a'));
  m.questions[0].name = big;
  EXPECT_FALSE(encode_dns_message(m));
}

TEST(DnsMessage, EmptyTxtIsOneEmptyString) {
  Message m;
  ResourceRecord txt;
  txt.name = name("x.local.");
  txt.type = 16;
  txt.data = TxtData{};
  m.answers.push_back(txt);
  auto bytes = encode_dns_message(m);
  ASSERT_TRUE(bytes);
  auto back = decode_dns_message(*bytes);
  ASSERT_TRUE(back);
  EXPECT_EQ(std::get<TxtData>(back->answers[0].data).entries, std::vector<std::string>{""});
}

Bytes header(std::uint16_t qd, std::uint16_t an) {
  return {0, 0, 0x84, 0, 0, static_cast<std::uint8_t>(qd), 0, static_cast<std::uint8_t>(an),
          0, 0, 0,    0};
}

void expect_error(const Bytes& packet, const char* code) {
  auto r = decode_dns_message(packet);
  ASSERT_FALSE(r) << "expected " << code;
  EXPECT_EQ(r.error().code, code);
}

TEST(DnsMessageDecode, ShortHeader) {
  expect_error({0, 0, 0}, "DNS_TRUNCATED");
}

TEST(DnsMessageDecode, CountsThatCannotFit) {
  Bytes p = header(0, 0);
  p[6] = 0xFF;  // 65280 answers in 12 bytes
  expect_error(p, "DNS_TOO_MANY");
}

TEST(DnsMessageDecode, PointerLoopIsRejected) {
  Bytes p = header(1, 0);
  p.insert(p.end(), {0xC0, 12, 0, 1, 0, 1});  // name at 12 points to itself
  expect_error(p, "DNS_BAD_NAME");
  Bytes q = header(1, 0);
  // label "a" then a pointer back to the label start: a loop through one label
  q.insert(q.end(), {1, 'a', 0xC0, 12, 0, 1, 0, 1});
  expect_error(q, "DNS_BAD_NAME");
}

TEST(DnsMessageDecode, ForwardPointerIsRejected) {
  Bytes p = header(1, 0);
  p.insert(p.end(), {0xC0, 20, 0, 1, 0, 1, 0, 0, 1, 'a', 0});
  expect_error(p, "DNS_BAD_NAME");
}

TEST(DnsMessageDecode, PointerPastTheEndIsRejected) {
  Bytes p = header(1, 0);
  p.insert(p.end(), {1, 'a', 0xC0});
  auto r = decode_dns_message(p);
  ASSERT_FALSE(r);
}

TEST(DnsMessageDecode, ReservedLabelTypesAreRejected) {
  Bytes p = header(1, 0);
  p.insert(p.end(), {0x40, 0, 0, 1, 0, 1});
  expect_error(p, "DNS_BAD_NAME");
}

TEST(DnsMessageDecode, NameOver255BytesIsRejected) {
  Bytes p = header(1, 0);
  for (int i = 0; i < 5; ++i) {
    p.push_back(63);
    p.insert(p.end(), 63, 'x');
  }
  p.insert(p.end(), {0, 0, 1, 0, 1});
  expect_error(p, "DNS_BAD_NAME");
}

TEST(DnsMessageDecode, LabelPastTheEnd) {
  Bytes p = header(1, 0);
  p.insert(p.end(), {10, 'a', 'b', 0, 0});
  expect_error(p, "DNS_TRUNCATED");
}

Bytes one_answer(std::uint16_t type, Bytes rdata, std::optional<std::uint16_t> rdlen = {}) {
  Bytes p = header(0, 1);
  p.insert(p.end(), {1, 'x', 0});
  p.insert(p.end(), {static_cast<std::uint8_t>(type >> 8), static_cast<std::uint8_t>(type), 0, 1, 0,
                     0, 0, 120});
  const std::uint16_t len = rdlen.value_or(static_cast<std::uint16_t>(rdata.size()));
  p.push_back(static_cast<std::uint8_t>(len >> 8));
  p.push_back(static_cast<std::uint8_t>(len));
  p.insert(p.end(), rdata.begin(), rdata.end());
  return p;
}

TEST(DnsMessageDecode, BadRdata) {
  expect_error(one_answer(1, {1, 2, 3}), "DNS_BAD_RDATA");                    // A of 3 bytes
  expect_error(one_answer(28, Bytes(15, 0)), "DNS_BAD_RDATA");                // AAAA of 15
  expect_error(one_answer(33, {0, 0, 0}), "DNS_BAD_RDATA");                   // SRV too short
  expect_error(one_answer(33, {0, 0, 0, 0, 0, 1, 1, 'a'}), "DNS_BAD_RDATA");  // target cut
  expect_error(one_answer(33, {0, 0, 0, 0, 0, 1, 0, 9}), "DNS_BAD_RDATA");    // trailing byte
  expect_error(one_answer(12, {3, 'a', 'b'}), "DNS_BAD_RDATA");               // PTR name cut
  expect_error(one_answer(12, {0, 0}), "DNS_BAD_RDATA");                      // PTR trailing
  expect_error(one_answer(16, {5, 'a'}), "DNS_BAD_RDATA");                    // TXT overrun
  expect_error(one_answer(1, {1, 2, 3, 4}, 40), "DNS_TRUNCATED");             // RDLENGTH too big
  Bytes cut = one_answer(1, {1, 2, 3, 4});
  cut.resize(cut.size() - 2);
  expect_error(cut, "DNS_TRUNCATED");
}

TEST(DnsMessageDecode, PtrMayPointBackIntoTheMessage) {
  Bytes p = one_answer(12, {1, 'y', 0xC0, 12});  // "y" + pointer to "x." at offset 12
  auto r = decode_dns_message(p);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(std::get<PtrData>(r->answers[0].data).to_string(), "y.x.");
}

TEST(DnsMessageDecode, ZeroLengthTxtIsOneEmptyString) {
  // Found by fuzz_dns_message: it must decode the way we re-encode it.
  auto r = decode_dns_message(one_answer(16, {}));
  ASSERT_TRUE(r);
  EXPECT_EQ(std::get<TxtData>(r->answers[0].data).entries, std::vector<std::string>{""});
  auto again = decode_dns_message(*encode_dns_message(*r));
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->answers[0].same_record(r->answers[0]));
}

TEST(DnsMessageDecode, TrailingBytesAreRejected) {
  Bytes p = one_answer(1, {1, 2, 3, 4});
  p.push_back(0);
  expect_error(p, "DNS_TRAILING");
}

TEST(DnsMessageDecode, RandomAndMutatedInputNeverCrashes) {
  SeededRng rng(7);
  auto good = *encode_dns_message(sample());
  for (int i = 0; i < 20000; ++i) {
    Bytes p = good;
    const int flips = 1 + static_cast<int>(rng.uniform(4));
    for (int f = 0; f < flips; ++f) {
      p[rng.uniform(p.size())] = static_cast<std::uint8_t>(rng.uniform(256));
    }
    if (rng.uniform(4) == 0) p.resize(rng.uniform(p.size() + 1));
    auto r = decode_dns_message(p);
    if (r) {
      // Anything we accept re-encodes and decodes again.
      auto again = encode_dns_message(*r);
      ASSERT_TRUE(again) << again.error().to_string();
      ASSERT_TRUE(decode_dns_message(*again));
    }
  }
}

TEST(DnsTxt, ParsesPairsPerRfc6763) {
  TxtData t{{"node_id=n1", "flag", "", "=novalue", "Node_ID=dup", "empty=", "eq=a=b"}};
  auto kv = parse_txt(t);
  ASSERT_EQ(kv.size(), 4u);
  EXPECT_EQ(kv[0], (std::pair<std::string, std::string>{"node_id", "n1"}));
  EXPECT_EQ(kv[1], (std::pair<std::string, std::string>{"flag", ""}));
  EXPECT_EQ(kv[2], (std::pair<std::string, std::string>{"empty", ""}));
  EXPECT_EQ(kv[3], (std::pair<std::string, std::string>{"eq", "a=b"}));
}

}  // namespace
}  // namespace peat::discovery::dns
