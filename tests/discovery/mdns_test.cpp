// The mDNS responder and browser, driven in memory with a manual clock.
#include <gtest/gtest.h>

#include "peat/common/random.hpp"
#include "peat/discovery/mdns_browser.hpp"
#include "peat/discovery/mdns_discovery.hpp"
#include "peat/discovery/mdns_responder.hpp"
#include "peat/runtime/io_loop.hpp"

namespace peat::discovery::mdns {
namespace {

using namespace std::chrono_literals;
using dns::Message;
using dns::Name;
using dns::RecordType;

const Instant kT0 = Instant{} + 1h;
const SocketAddress kPeer{"10.0.0.9", kMdnsPort};
const ResponderOptions kNoProbe{false};

ServiceAdvert advert(const std::string& node = "n1") {
  MdnsConfig config;
  auto a = make_service_advert(config, node, 5000, {{"role", "leader"}}, {"10.0.0.1", "fd00::1"});
  EXPECT_TRUE(a) << a.error().to_string();
  return *a;
}

Message decode(const Bytes& b) {
  auto m = dns::decode_dns_message(b);
  EXPECT_TRUE(m) << m.error().to_string();
  return m ? *m : Message{};
}

Message query(const char* name, RecordType type) {
  Message q;
  q.questions.push_back(
      {*Name::parse(name), static_cast<std::uint16_t>(type), dns::kClassIn, false});
  return q;
}

std::size_t count_type(const std::vector<dns::ResourceRecord>& rrs, RecordType t) {
  std::size_t n = 0;
  for (const auto& r : rrs) n += r.type == static_cast<std::uint16_t>(t);
  return n;
}

TEST(MdnsAdvert, MatchesRustNamingAndTxt) {
  MdnsConfig config;
  auto a = make_service_advert(config, "node.7_x", 4242, {{"zone", "b"}, {"node_id", "override"}},
                               {"192.168.1.2"});
  ASSERT_TRUE(a);
  EXPECT_EQ(a->instance_name().to_string(), "peat-node\\.7_x._peat._udp.local.");
  EXPECT_EQ(a->host.to_string(), "node-7-x.local.");
  ASSERT_EQ(a->txt.size(), 2u);
  EXPECT_EQ(a->txt[0], (std::pair<std::string, std::string>{"node_id", "override"}));
  EXPECT_EQ(a->txt[1], (std::pair<std::string, std::string>{"zone", "b"}));
  EXPECT_EQ(mdns_host_label("a.b c"), "a-b-c");
}

TEST(MdnsAdvert, RejectsBadInput) {
  MdnsConfig config;
  EXPECT_FALSE(make_service_advert(config, "", 1, {}, {"10.0.0.1"}));
  EXPECT_FALSE(make_service_advert(config, std::string(59, 'x'), 1, {}, {"10.0.0.1"}));
  EXPECT_FALSE(make_service_advert(config, "n", 1, {}, {}));
  EXPECT_FALSE(make_service_advert(config, "n", 1, {}, {"not-ip"}));
  EXPECT_FALSE(make_service_advert(config, "n", 1, {{"a=b", "c"}}, {"10.0.0.1"}));
  EXPECT_FALSE(make_service_advert(config, "n", 1, {{"k", std::string(300, 'v')}}, {"10.0.0.1"}));
  config.service_type = "_peat._sctp.local.";
  auto r = make_service_advert(config, "n", 1, {}, {"10.0.0.1"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "MDNS_ERROR");
  config.service_type = "_custom._tcp.local.";
  EXPECT_TRUE(make_service_advert(config, "n", 1, {}, {"10.0.0.1"}));
}

TEST(MdnsMapping, PeerFromServiceFollowsRust) {
  ResolvedService s;
  s.instance_name = *Name::parse("peat-n1._peat._udp.local.");
  s.port = 5000;
  s.txt = {{"node_id", "n1"}, {"role", "leader"}};
  s.addresses = {"10.0.0.1", "fd00::1"};
  auto p = peer_from_service(s, kT0);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->node_id, "n1");
  ASSERT_EQ(p->addresses.size(), 2u);
  EXPECT_EQ(p->addresses[1], (SocketAddress{"fd00::1", 5000}));
  EXPECT_EQ(p->metadata.size(), 1u);
  EXPECT_FALSE(p->relay_url);

  auto no_id = s;
  no_id.txt = {{"role", "x"}};
  EXPECT_FALSE(peer_from_service(no_id, kT0));
  auto no_addr = s;
  no_addr.addresses.clear();
  EXPECT_FALSE(peer_from_service(no_addr, kT0));

  EXPECT_EQ(node_id_from_instance(*Name::parse("peat-platform-1._peat._udp.local.")), "platform-1");
  EXPECT_EQ(node_id_from_instance(*Name::parse("peat-._peat._udp.local.")), "");  // as Rust
  EXPECT_EQ(node_id_from_instance(*Name::parse("invalid._peat._udp.local.")), std::nullopt);
  EXPECT_EQ(node_id_from_instance(Name{}), std::nullopt);
  EXPECT_EQ(node_id_from_instance(Name{{"peat-a.b", "_peat", "_udp", "local"}}), "a.b");
}

TEST(MdnsResponder, AnnouncesTwiceOneSecondApart) {
  MdnsResponder r(advert(), kNoProbe);
  r.start(kT0);
  auto first = r.poll(kT0);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_FALSE(first[0].to);
  auto m = decode(first[0].data);
  EXPECT_TRUE(m.is_response());
  EXPECT_EQ(count_type(m.answers, RecordType::kPtr), 2u);  // service + enumeration
  EXPECT_EQ(count_type(m.answers, RecordType::kSrv), 1u);
  EXPECT_EQ(count_type(m.answers, RecordType::kTxt), 1u);
  EXPECT_EQ(count_type(m.answers, RecordType::kA), 1u);
  EXPECT_EQ(count_type(m.answers, RecordType::kAaaa), 1u);
  EXPECT_EQ(r.next_wakeup(), kT0 + 1s);
  EXPECT_TRUE(r.poll(kT0 + 999ms).empty());
  EXPECT_EQ(r.poll(kT0 + 1s).size(), 1u);
  EXPECT_FALSE(r.next_wakeup());
  EXPECT_TRUE(r.poll(kT0 + 100s).empty());
}

TEST(MdnsResponder, AnswersPtrQueryWithAdditionals) {
  MdnsResponder r(advert(), kNoProbe);
  r.start(kT0);
  (void)r.poll(kT0 + 2s);
  r.on_message(query("_peat._udp.local.", RecordType::kPtr), kPeer, kT0 + 3s);
  auto out = r.poll(kT0 + 3s);
  ASSERT_EQ(out.size(), 1u);
  auto m = decode(out[0].data);
  ASSERT_EQ(m.answers.size(), 1u);
  EXPECT_EQ(std::get<dns::PtrData>(m.answers[0].data).to_string(), "peat-n1._peat._udp.local.");
  EXPECT_EQ(count_type(m.additionals, RecordType::kSrv), 1u);
  EXPECT_EQ(count_type(m.additionals, RecordType::kTxt), 1u);
  EXPECT_EQ(count_type(m.additionals, RecordType::kA), 1u);
  const auto& txt = *std::find_if(m.additionals.begin(), m.additionals.end(), [](auto& rr) {
    return rr.type == static_cast<std::uint16_t>(RecordType::kTxt);
  });
  EXPECT_EQ(std::get<dns::TxtData>(txt.data).entries,
            (std::vector<std::string>{"node_id=n1", "role=leader"}));
}

TEST(MdnsResponder, AnswersSrvTxtAddressAndEnumerationQueries) {
  MdnsResponder r(advert(), kNoProbe);
  r.start(kT0);
  (void)r.poll(kT0);
  r.on_message(query("PEAT-N1._peat._udp.local.", RecordType::kAny), kPeer, kT0);
  auto m = decode(r.poll(kT0).at(0).data);
  EXPECT_EQ(count_type(m.answers, RecordType::kSrv), 1u);
  EXPECT_EQ(count_type(m.answers, RecordType::kTxt), 1u);
  EXPECT_EQ(count_type(m.additionals, RecordType::kA), 1u);

  r.on_message(query("n1.local.", RecordType::kAaaa), kPeer, kT0);
  m = decode(r.poll(kT0).at(0).data);
  ASSERT_EQ(m.answers.size(), 1u);
  EXPECT_EQ(m.answers[0].type, static_cast<std::uint16_t>(RecordType::kAaaa));

  r.on_message(query("_services._dns-sd._udp.local.", RecordType::kPtr), kPeer, kT0);
  m = decode(r.poll(kT0).at(0).data);
  ASSERT_EQ(m.answers.size(), 1u);
  EXPECT_EQ(std::get<dns::PtrData>(m.answers[0].data).to_string(), "_peat._udp.local.");

  r.on_message(query("_other._udp.local.", RecordType::kPtr), kPeer, kT0);
  EXPECT_TRUE(r.poll(kT0).empty());
}

TEST(MdnsResponder, KnownAnswerSuppression) {
  MdnsResponder r(advert(), kNoProbe);
  r.start(kT0);
  (void)r.poll(kT0);
  Message q = query("_peat._udp.local.", RecordType::kPtr);
  auto known = r.records(false)[0];
  known.ttl = 4000;  // more than half of 4500
  q.answers.push_back(known);
  r.on_message(q, kPeer, kT0);
  EXPECT_TRUE(r.poll(kT0).empty());
  q.answers[0].ttl = 100;  // under half: answer again
  r.on_message(q, kPeer, kT0);
  EXPECT_EQ(r.poll(kT0).size(), 1u);
}

TEST(MdnsResponder, LegacyUnicastQueryGetsUnicastReply) {
  MdnsResponder r(advert(), kNoProbe);
  r.start(kT0);
  (void)r.poll(kT0);
  Message q = query("_peat._udp.local.", RecordType::kPtr);
  q.id = 0x1234;
  const SocketAddress legacy{"10.0.0.9", 40000};
  r.on_message(q, legacy, kT0);
  auto out = r.poll(kT0);
  ASSERT_EQ(out.size(), 1u);
  ASSERT_TRUE(out[0].to);
  EXPECT_EQ(*out[0].to, legacy);
  auto m = decode(out[0].data);
  EXPECT_EQ(m.id, 0x1234);
  EXPECT_EQ(m.questions.size(), 1u);
  for (const auto& rr : m.answers) {
    EXPECT_LE(rr.ttl, 10u);
    EXPECT_FALSE(rr.cache_flush);
  }
}

TEST(MdnsResponder, IgnoresResponsesAndQueriesWhenStopped) {
  MdnsResponder r(advert(), kNoProbe);
  r.on_message(query("_peat._udp.local.", RecordType::kPtr), kPeer, kT0);
  EXPECT_TRUE(r.poll(kT0).empty());  // not started
  r.start(kT0);
  (void)r.poll(kT0 + 2s);
  Message resp = query("_peat._udp.local.", RecordType::kPtr);
  resp.flags = dns::kResponseFlags;
  r.on_message(resp, kPeer, kT0 + 2s);
  EXPECT_TRUE(r.poll(kT0 + 2s).empty());
}

TEST(MdnsResponder, StopSendsGoodbyeWithTtlZero) {
  MdnsResponder r(advert(), kNoProbe);
  r.start(kT0);
  r.stop();
  auto out = r.poll(kT0);
  ASSERT_EQ(out.size(), 1u);  // the goodbye only; pending announcements are cancelled
  auto m = decode(out[0].data);
  ASSERT_FALSE(m.answers.empty());
  for (const auto& rr : m.answers) EXPECT_EQ(rr.ttl, 0u);
  EXPECT_TRUE(r.poll(kT0 + 5s).empty());
  r.on_message(query("_peat._udp.local.", RecordType::kPtr), kPeer, kT0);
  EXPECT_TRUE(r.poll(kT0).empty());
}

Message announcement(const std::string& node);

TEST(MdnsResponder, ProbesThreeTimesThenAnnouncesTwice) {
  MdnsResponder r(advert());
  r.start(kT0);
  EXPECT_TRUE(r.probing());
  for (auto at : {0ms, 250ms, 500ms}) {
    EXPECT_EQ(r.next_wakeup(), kT0 + at);
    auto out = r.poll(kT0 + at);
    ASSERT_EQ(out.size(), 1u);
    auto probe = decode(out[0].data);
    EXPECT_FALSE(probe.is_response());
    ASSERT_EQ(probe.questions.size(), 2u);
    EXPECT_TRUE(probe.questions[0].unicast_response);
    EXPECT_EQ(probe.questions[0].type, static_cast<std::uint16_t>(RecordType::kAny));
    EXPECT_EQ(probe.questions[0].name.to_string(), "peat-n1._peat._udp.local.");
    EXPECT_EQ(probe.questions[1].name.to_string(), "n1.local.");
    EXPECT_EQ(count_type(probe.authorities, RecordType::kSrv), 1u);
    EXPECT_EQ(count_type(probe.authorities, RecordType::kA), 1u);
    // Not answering yet: the names are not ours until probing succeeds.
    r.on_message(query("_peat._udp.local.", RecordType::kPtr), kPeer, kT0 + at);
    r.on_message(probe, kPeer, kT0 + at);  // our own probe, looped back: no conflict
  }
  EXPECT_TRUE(r.poll(kT0 + 600ms).empty());
  auto first = r.poll(kT0 + 750ms);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_TRUE(decode(first[0].data).is_response());
  EXPECT_FALSE(r.probing());
  EXPECT_EQ(r.poll(kT0 + 1750ms).size(), 1u);
  EXPECT_EQ(r.conflicts(), 0);
}

TEST(MdnsResponder, ConflictWhileProbingRenamesAndProbesAgain) {
  MdnsResponder r(advert());
  r.start(kT0);
  (void)r.poll(kT0);
  Message theirs = announcement("n1");
  for (auto& rr : theirs.answers) {
    if (auto* srv = std::get_if<dns::SrvData>(&rr.data)) srv->port = 9999;
  }
  r.on_message(theirs, kPeer, kT0 + 100ms);
  EXPECT_EQ(r.conflicts(), 1);
  EXPECT_EQ(r.advert().instance_name().to_string(), "peat-n1 (2)._peat._udp.local.");
  EXPECT_EQ(r.advert().host.to_string(), "n1-2.local.");
  EXPECT_TRUE(r.probing());
  auto probe = decode(r.poll(kT0 + 100ms).at(0).data);
  EXPECT_EQ(probe.questions[0].name.to_string(), "peat-n1 (2)._peat._udp.local.");
  // The TXT keeps the node id, so peers still map the renamed instance to n1.
  EXPECT_EQ(r.advert().txt.at(0).second, "n1");
}

TEST(MdnsResponder, SimultaneousProbeTieBreak) {
  // Their SRV port is higher, so their data is lexicographically later: we wait 1 s.
  MdnsResponder r(advert());
  r.start(kT0);
  (void)r.poll(kT0);
  MdnsResponder other(advert());
  Message probe;
  probe.questions.push_back({r.advert().instance_name(), 255, dns::kClassIn, true});
  for (auto& rr : other.records(false)) {
    if (!rr.cache_flush) continue;
    if (auto* srv = std::get_if<dns::SrvData>(&rr.data)) srv->port = 6000;
    probe.authorities.push_back(rr);
  }
  r.on_message(probe, kPeer, kT0 + 100ms);
  EXPECT_EQ(r.next_wakeup(), kT0 + 1100ms);
  EXPECT_EQ(r.conflicts(), 0);

  // Earlier data (lower port): we win and carry on.
  MdnsResponder w(advert());
  w.start(kT0);
  (void)w.poll(kT0);
  for (auto& rr : probe.authorities) {
    if (auto* srv = std::get_if<dns::SrvData>(&rr.data)) srv->port = 10;
  }
  w.on_message(probe, kPeer, kT0 + 100ms);
  EXPECT_EQ(w.next_wakeup(), kT0 + 250ms);
}

TEST(MdnsResponder, ConflictAfterAnnouncingOnlyForUniqueRecords) {
  MdnsResponder r(advert(), kNoProbe);
  r.start(kT0);
  (void)r.poll(kT0 + 2s);
  // Someone else's PTR for our service type (shared record) is fine.
  r.on_message(announcement("other"), kPeer, kT0 + 3s);
  // Our own announcement looped back is fine.
  r.on_message(announcement("n1"), kPeer, kT0 + 3s);
  EXPECT_EQ(r.conflicts(), 0);
  // A different address for our host name is a conflict (§9).
  Message theirs = announcement("n1");
  for (auto& rr : theirs.answers) {
    if (auto* a = std::get_if<dns::AData>(&rr.data)) *a = {10, 9, 9, 9};
  }
  r.on_message(theirs, kPeer, kT0 + 4s);
  EXPECT_EQ(r.conflicts(), 1);
  EXPECT_TRUE(r.probing());
}

TEST(MdnsResponder, RandomDelaysWithAnRng) {
  SeededRng rng(5);
  MdnsResponder r(advert(), ResponderOptions{true, &rng});
  r.start(kT0);
  const Instant first_probe = *r.next_wakeup();
  EXPECT_GE(first_probe, kT0);
  EXPECT_LE(first_probe, kT0 + 250ms);
  Instant now = first_probe;
  for (int i = 0; i < 6 && r.next_wakeup(); ++i) {
    now = *r.next_wakeup();
    (void)r.poll(now);
  }
  ASSERT_FALSE(r.probing());
  // A PTR answer (shared record) waits 20-120 ms.
  r.on_message(query("_peat._udp.local.", RecordType::kPtr), kPeer, now);
  EXPECT_TRUE(r.poll(now).empty());
  const Instant due = *r.next_wakeup();
  EXPECT_GE(due, now + 20ms);
  EXPECT_LE(due, now + 120ms);
  EXPECT_EQ(r.poll(due).size(), 1u);
  // A unique answer (SRV) goes at once.
  r.on_message(query("peat-n1._peat._udp.local.", RecordType::kSrv), kPeer, due);
  EXPECT_EQ(r.poll(due).size(), 1u);
  // Stopping drops answers not sent yet; only the goodbye goes out.
  r.on_message(query("_peat._udp.local.", RecordType::kPtr), kPeer, due);
  r.stop();
  auto out = r.poll(due + 1s);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(decode(out[0].data).answers.at(0).ttl, 0u);
}

TEST(MdnsResponder, StopWhileProbingSendsNoGoodbye) {
  MdnsResponder r(advert());
  r.start(kT0);
  (void)r.poll(kT0);
  r.stop();
  EXPECT_TRUE(r.poll(kT0 + 1s).empty());
}

// --- browser ---

Message announcement(const std::string& node) {
  MdnsResponder r(advert(node), kNoProbe);
  Message m;
  m.flags = dns::kResponseFlags;
  m.answers = r.records(false);
  return m;
}

Name peat_type() {
  return *Name::parse("_peat._udp.local.");
}

TEST(MdnsBrowser, QueryBackoffDoublesFromOneSecondToAnHour) {
  SeededRng rng(1);
  MdnsBrowser b(peat_type(), rng);
  b.start(kT0);
  std::vector<Duration> gaps;
  Instant now = kT0;
  Instant last = kT0;
  for (int i = 0; i < 20; ++i) {
    auto out = b.poll(now);
    if (!out.empty()) {
      auto q = decode(out[0]);
      EXPECT_FALSE(q.is_response());
      ASSERT_FALSE(q.questions.empty());
      EXPECT_TRUE(q.questions[0].name.equals(peat_type()));
      EXPECT_EQ(q.questions[0].type, static_cast<std::uint16_t>(RecordType::kPtr));
      if (now != kT0) gaps.push_back(now - last);
      last = now;
    }
    now = *b.next_wakeup();
  }
  ASSERT_GE(gaps.size(), 14u);
  EXPECT_EQ(gaps[0], 1s);
  EXPECT_EQ(gaps[1], 2s);
  EXPECT_EQ(gaps[2], 4s);
  EXPECT_EQ(gaps[11], 2048s);
  EXPECT_EQ(gaps[12], 3600s);  // capped at 60 min
  EXPECT_EQ(gaps[13], 3600s);
}

TEST(MdnsBrowser, ResolvesFromOneAnnouncement) {
  SeededRng rng(1);
  MdnsBrowser b(peat_type(), rng);
  b.start(kT0);
  b.on_message(announcement("n1"), kT0);
  auto ev = b.take_events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, BrowserEvent::Kind::kResolved);
  const auto& s = ev[0].service;
  EXPECT_EQ(s.instance_label(), "peat-n1");
  EXPECT_EQ(s.port, 5000);
  EXPECT_EQ(s.addresses, (std::vector<std::string>{"10.0.0.1", "fd00::1"}));
  EXPECT_EQ(s.txt.at(0).second, "n1");
  // The same announcement again changes nothing.
  b.on_message(announcement("n1"), kT0 + 1s);
  EXPECT_TRUE(b.take_events().empty());
  EXPECT_EQ(b.services().size(), 1u);
}

TEST(MdnsBrowser, IgnoresOtherTypesAndQueries) {
  SeededRng rng(1);
  MdnsBrowser b(*Name::parse("_other._udp.local."), rng);
  b.start(kT0);
  b.on_message(announcement("n1"), kT0);
  EXPECT_TRUE(b.take_events().empty());
  Message q = query("_other._udp.local.", RecordType::kPtr);
  b.on_message(q, kT0);
  EXPECT_TRUE(b.take_events().empty());
}

TEST(MdnsBrowser, GoodbyeRemovesAfterOneSecond) {
  SeededRng rng(1);
  MdnsBrowser b(peat_type(), rng);
  b.start(kT0);
  b.on_message(announcement("n1"), kT0);
  (void)b.take_events();
  MdnsResponder r(advert("n1"), kNoProbe);
  Message bye;
  bye.flags = dns::kResponseFlags;
  bye.answers = r.records(true);
  b.on_message(bye, kT0 + 10s);
  (void)b.poll(kT0 + 10500ms);
  EXPECT_TRUE(b.take_events().empty());
  (void)b.poll(kT0 + 11s);
  auto ev = b.take_events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, BrowserEvent::Kind::kRemoved);
  EXPECT_EQ(ev[0].service.instance_label(), "peat-n1");
  EXPECT_TRUE(b.services().empty());
}

TEST(MdnsBrowser, TtlExpiryRemovesAndRefreshQueriesAtEightyPercent) {
  SeededRng rng(1);
  MdnsBrowser b(peat_type(), rng);
  b.start(kT0);
  (void)b.poll(kT0);
  b.on_message(announcement("n1"), kT0);  // SRV/A TTL 120 s
  (void)b.take_events();
  // Drain the browse schedule up to 95 s: no SRV refresh yet (80 % of 120 s = 96 s).
  Instant now = kT0;
  bool srv_refresh_before_96 = false, srv_refresh_after = false;
  while (true) {
    auto next = b.next_wakeup();
    ASSERT_TRUE(next);
    now = *next;
    if (now > kT0 + 125s) break;
    for (const auto& bytes : b.poll(now)) {
      for (const auto& q : decode(bytes).questions) {
        if (q.type == static_cast<std::uint16_t>(RecordType::kSrv)) {
          if (now < kT0 + 96s) srv_refresh_before_96 = true;
          if (!srv_refresh_after) {
            EXPECT_LE(now, kT0 + 99s);  // 80 % + at most 2 % jitter
          }
          srv_refresh_after = true;
        }
      }
    }
    if (now >= kT0 + 120s) break;
  }
  EXPECT_FALSE(srv_refresh_before_96);
  EXPECT_TRUE(srv_refresh_after);
  // No answer came: at 120 s the SRV expires and the instance is removed.
  (void)b.poll(kT0 + 121s);
  auto ev = b.take_events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, BrowserEvent::Kind::kRemoved);
}

TEST(MdnsBrowser, KnownAnswersGoIntoBrowseQueries) {
  SeededRng rng(1);
  MdnsBrowser b(peat_type(), rng);
  b.start(kT0);
  (void)b.poll(kT0);
  b.on_message(announcement("n1"), kT0);
  auto out = b.poll(kT0 + 1s);
  ASSERT_EQ(out.size(), 1u);
  auto q = decode(out[0]);
  ASSERT_EQ(q.answers.size(), 1u);
  EXPECT_EQ(std::get<dns::PtrData>(q.answers[0].data).to_string(), "peat-n1._peat._udp.local.");
  EXPECT_LE(q.answers[0].ttl, 4500u);
}

TEST(MdnsBrowser, QueriesDirectlyForMissingSrvTxtAndAddress) {
  SeededRng rng(1);
  MdnsBrowser b(peat_type(), rng);
  b.start(kT0);
  (void)b.poll(kT0);
  Message ptr_only = announcement("n1");
  ptr_only.answers.resize(1);  // just the PTR
  b.on_message(ptr_only, kT0);
  EXPECT_TRUE(b.take_events().empty());
  auto out = b.poll(kT0);
  ASSERT_EQ(out.size(), 1u);
  auto q = decode(out[0]);
  bool srv = false, txt = false;
  for (const auto& question : q.questions) {
    srv |= question.type == static_cast<std::uint16_t>(RecordType::kSrv);
    txt |= question.type == static_cast<std::uint16_t>(RecordType::kTxt);
  }
  EXPECT_TRUE(srv);
  EXPECT_TRUE(txt);

  // SRV + TXT arrive but no address: it asks for A/AAAA of the target.
  Message srv_txt = announcement("n1");
  srv_txt.answers.erase(srv_txt.answers.begin() + 3, srv_txt.answers.end());
  b.on_message(srv_txt, kT0 + 1100ms);
  EXPECT_TRUE(b.take_events().empty());
  out = b.poll(kT0 + 1100ms);
  ASSERT_EQ(out.size(), 1u);
  bool a = false;
  for (const auto& question : decode(out[0]).questions) {
    a |= question.type == static_cast<std::uint16_t>(RecordType::kA) &&
         question.name.to_string() == "n1.local.";
  }
  EXPECT_TRUE(a);
  b.on_message(announcement("n1"), kT0 + 2s);
  EXPECT_EQ(b.take_events().size(), 1u);
}

TEST(MdnsBrowser, CacheFlushReplacesOldAddress) {
  SeededRng rng(1);
  MdnsBrowser b(peat_type(), rng);
  b.start(kT0);
  b.on_message(announcement("n1"), kT0);
  (void)b.take_events();
  Message moved = announcement("n1");
  for (auto& rr : moved.answers) {
    if (auto* a = std::get_if<dns::AData>(&rr.data)) *a = {10, 0, 0, 42};
  }
  b.on_message(moved, kT0 + 5s);
  auto ev = b.take_events();
  ASSERT_EQ(ev.size(), 1u);  // old + new for now
  EXPECT_EQ(ev[0].service.addresses.size(), 3u);
  (void)b.poll(kT0 + 6s);
  ev = b.take_events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].service.addresses, (std::vector<std::string>{"10.0.0.42", "fd00::1"}));
}

// A response as python3-zeroconf 0.47 writes it (PTR + SRV/TXT/A/AAAA additionals, compressed;
// also the seed fuzz/corpus/dns_message/zeroconf_response.bin).
TEST(MdnsInterop, DecodesZeroconfResponse) {
  auto bytes = from_hex(
      "000084000000000100000004055f70656174045f756470056c6f63616c00000c000100001194000a07706561"
      "742d6e31c00cc0280021800100000078000b000000001388026e31c017c028001080010000119400170a6e6f"
      "64655f69643d6e310b726f6c653d6c6561646572c044000180010000007800040a000001c044001c80010000"
      "00780010fd000000000000000000000000000001");
  ASSERT_TRUE(bytes);
  SeededRng rng(1);
  MdnsBrowser b(peat_type(), rng);
  b.start(kT0);
  b.on_message(decode(*bytes), kT0);
  auto ev = b.take_events();
  ASSERT_EQ(ev.size(), 1u);
  auto peer = peer_from_service(ev[0].service, kT0);
  ASSERT_TRUE(peer);
  EXPECT_EQ(peer->node_id, "n1");
  EXPECT_EQ(peer->addresses, (std::vector<SocketAddress>{{"10.0.0.1", 5000}, {"fd00::1", 5000}}));
  EXPECT_EQ(peer->metadata.at("role"), "leader");
}

TEST(MdnsEndToEnd, BrowserResolvesResponderInMemory) {
  SeededRng rng(3);
  MdnsResponder r(advert("n7"), kNoProbe);
  MdnsBrowser b(peat_type(), rng);
  r.start(kT0);
  b.start(kT0);
  (void)r.poll(kT0);  // announcements lost: the browser must find it by querying
  for (auto& q : b.poll(kT0)) r.on_message(decode(q), kPeer, kT0);
  for (auto& o : r.poll(kT0)) b.on_message(decode(o.data), kT0);
  auto ev = b.take_events();
  ASSERT_EQ(ev.size(), 1u);
  auto peer = peer_from_service(ev[0].service, kT0);
  ASSERT_TRUE(peer);
  EXPECT_EQ(peer->node_id, "n7");
  EXPECT_EQ(peer->metadata.at("role"), "leader");
}

// The socket adapter's error paths (nothing is sent: every case fails before a socket opens).
TEST(MdnsDiscoveryAdapter, ConfigurationErrors) {
  runtime::IoLoop loop;
  MdnsConfig bad_type;
  bad_type.service_type = "not-a-type";
  MdnsDiscovery a(loop, bad_type);
  auto r = a.start();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "MDNS_ERROR");

  MdnsConfig no_iface;
  no_iface.interface = "peat-no-such-if0";
  MdnsDiscovery b(loop, no_iface);
  r = b.start();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("peat-no-such-if0"), std::string::npos);

  MdnsConfig bad_addr;
  bad_addr.advertise_addresses = {"not-an-ip"};
  MdnsDiscovery c(loop, bad_addr);
  EXPECT_FALSE(c.advertise("n1", 5000));
  auto u = c.unadvertise("n1");
  ASSERT_FALSE(u);
  EXPECT_EQ(u.error().code, "MDNS_ERROR");
  EXPECT_TRUE(c.discovered_peers().empty());
  EXPECT_TRUE(c.stop());  // stop without start is fine
  ASSERT_TRUE(c.event_stream());
  EXPECT_FALSE(c.event_stream());
}

}  // namespace
}  // namespace peat::discovery::mdns
