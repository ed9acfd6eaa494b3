#include "peat/doc/sync/sync.hpp"

#include <gtest/gtest.h>

#include "doc/sync/test_vectors.hpp"

namespace peat::doc::sync {
namespace {

using testing::hash_of;
using testing::hex;

const std::string kH = testing::kChangeHashHex;

Bytes actor(std::uint8_t b) {
  return Bytes(16, b);
}

void edit(Document& d, const std::string& key, std::int64_t v) {
  ASSERT_TRUE(d.put(kRoot, key, v).ok());
  CommitOptions o;
  o.time = 0;
  d.commit(o);
}

struct Stats {
  int messages = 0;
  bool converged = false;
};

// Alternates a -> b, b -> a until neither side has anything to say (bounded).
Stats sync_pair(Document& a, State& sa, Document& b, State& sb, bool strip_b_trailer = false) {
  Stats st;
  for (int round = 0; round < 20; ++round) {
    auto m1 = generate_message(a, sa);
    if (m1) {
      ++st.messages;
      EXPECT_TRUE(receive_message(b, sb, *m1).ok());
    }
    auto m2 = generate_message(b, sb);
    if (m2) {
      ++st.messages;
      if (strip_b_trailer) m2->trailer.reset();
      EXPECT_TRUE(receive_sync_message(a, sa, encode_message(*m2)).ok());
    }
    if (!m1 && !m2) {
      st.converged = true;
      break;
    }
  }
  return st;
}

TEST(SyncProtocol, ReproducesObservedSession) {
  auto a_loaded = Document::load(hex(testing::kChangeHex), actor(0xaa));
  ASSERT_TRUE(a_loaded.ok()) << a_loaded.error().to_string();
  Document a = std::move(*a_loaded);
  Document b(actor(0xbb));
  State sa, sb;

  auto m1 = generate_sync_message(a, sa);
  ASSERT_TRUE(m1);
  EXPECT_EQ(to_hex(*m1), "4201" + kH + "00010005010a07c71800020284");
  ASSERT_TRUE(receive_sync_message(b, sb, *m1).ok());

  auto m2 = generate_sync_message(b, sb);
  ASSERT_TRUE(m2);
  EXPECT_EQ(to_hex(*m2), "430001" + kH + "01000000020284");
  ASSERT_TRUE(receive_sync_message(a, sa, *m2).ok());

  auto m3 = generate_message(a, sa);
  ASSERT_TRUE(m3);
  EXPECT_EQ(m3->version, MessageVersion::kV2);
  ASSERT_EQ(m3->changes.size(), 1u);
  EXPECT_EQ(m3->changes[0][8], 0x00) << "the whole document chunk is sent";
  EXPECT_EQ(m3->changes[0], a.save());
  // Byte for byte what npm 3.5.0 sends at this step (the 106-byte document chunk included).
  EXPECT_EQ(to_hex(encode_message(*m3)),
            "4301" + kH + "00010005010a07c718016a856f4a83b54e453000600102aaaa01" + kH +
                "060102030213022302400256020815032102230234014202560257018001027f007f017f017f00"
                "7f007f077f01787f007f01017f017f14017f0000020284");
  ASSERT_TRUE(receive_message(b, sb, *m3).ok());
  EXPECT_EQ(b.get_heads(), std::vector<ChangeHash>{hash_of(kH)});

  auto m4 = generate_sync_message(b, sb);
  ASSERT_TRUE(m4);
  EXPECT_EQ(to_hex(*m4), "4301" + kH + "000101" + kH + "0000020284");
  ASSERT_TRUE(receive_sync_message(a, sa, *m4).ok());
  EXPECT_FALSE(generate_sync_message(a, sa));
  EXPECT_FALSE(generate_sync_message(b, sb));
  EXPECT_EQ(to_hex(encode_state(sb)), "4301" + kH);
}

TEST(SyncProtocol, EmptyAndFullConvergeBothWays) {
  Document full(actor(1));
  for (int i = 0; i < 10; ++i) edit(full, "k" + std::to_string(i % 3), i);
  Document empty(actor(2));
  State s1, s2;
  auto st = sync_pair(full, s1, empty, s2);
  EXPECT_TRUE(st.converged);
  EXPECT_LE(st.messages, 5);
  EXPECT_EQ(full.get_heads(), empty.get_heads());
  EXPECT_EQ(to_json(full), to_json(empty));

  Document other(actor(3));
  State s3, s4;
  st = sync_pair(other, s3, full, s4);
  EXPECT_TRUE(st.converged);
  EXPECT_EQ(other.get_heads(), full.get_heads());
}

TEST(SyncProtocol, DivergedPeersExchangeOnlyWhatIsMissing) {
  Document a(actor(1));
  edit(a, "base", 1);
  Document b = a.fork(actor(2));
  State sa, sb;
  EXPECT_TRUE(sync_pair(a, sa, b, sb).converged);
  for (int i = 0; i < 5; ++i) edit(a, "a" + std::to_string(i), i);
  for (int i = 0; i < 7; ++i) edit(b, "b" + std::to_string(i), i);
  auto st = sync_pair(a, sa, b, sb);
  EXPECT_TRUE(st.converged);
  EXPECT_EQ(a.get_heads(), b.get_heads());
  EXPECT_EQ(a.get_heads().size(), 2u);
  EXPECT_EQ(to_json(a), to_json(b));
  EXPECT_EQ(a.changes_info().size(), 13u);

  // One change apart on warm states: a short exchange.
  edit(a, "last", 9);
  st = sync_pair(a, sa, b, sb);
  EXPECT_TRUE(st.converged);
  EXPECT_LE(st.messages, 3);
  EXPECT_EQ(a.get_heads(), b.get_heads());
}

TEST(SyncProtocol, V1OnlyPeerGetsChangeChunksNeverADocument) {
  Document full(actor(1));
  for (int i = 0; i < 6; ++i) edit(full, "k", i);
  Document empty(actor(2));
  State sf, se;
  // `empty` never sends a trailer, so `full` must keep to V1 and individual change chunks.
  for (int round = 0; round < 10; ++round) {
    auto m1 = generate_message(full, sf);
    if (m1) {
      EXPECT_EQ(m1->version, MessageVersion::kV1);
      for (const auto& c : m1->changes) EXPECT_EQ(c[8], 0x01) << "change chunk";
      ASSERT_TRUE(receive_message(empty, se, *m1).ok());
    }
    auto m2 = generate_message(empty, se);
    if (m2) {
      m2->trailer.reset();
      ASSERT_TRUE(receive_message(full, sf, *m2).ok());
    }
    if (!m1 && !m2) break;
  }
  EXPECT_FALSE(sf.supports_v2());
  EXPECT_EQ(full.get_heads(), empty.get_heads());
  EXPECT_EQ(empty.changes_info().size(), 6u);
}

TEST(SyncProtocol, PeerThatLostItsDataIsResynced) {
  Document a(actor(1));
  for (int i = 0; i < 4; ++i) edit(a, "k", i);
  Document b(actor(2));
  State sa, sb;
  ASSERT_TRUE(sync_pair(a, sa, b, sb).converged);
  ASSERT_EQ(sb.shared_heads, a.get_heads());

  // b keeps its persisted state but loses the document; a still knows the old session.
  auto restored = decode_state(encode_state(sb));
  ASSERT_TRUE(restored.ok());
  Document b2(actor(2));
  State sb2 = *restored;
  State sa2;
  auto st = sync_pair(a, sa2, b2, sb2);
  EXPECT_TRUE(st.converged);
  EXPECT_EQ(b2.get_heads(), a.get_heads());

  // Persisted state naming heads the other side never had triggers the reset message.
  Document fresh(actor(3));
  State sf;
  auto m = generate_message(b2, sb2);
  (void)m;
  State stale = *restored;
  stale.their_have = std::vector<Have>{Have{{hash_of("ff")}, {}}};
  auto reset = generate_message(fresh, stale);
  ASSERT_TRUE(reset);
  EXPECT_EQ(reset->version, MessageVersion::kV1);
  ASSERT_EQ(reset->have.size(), 1u);
  EXPECT_TRUE(reset->have[0].last_sync.empty());
  EXPECT_EQ(reset->have[0].bloom.encode(), Bytes{});
}

TEST(SyncProtocol, HashesToSendFollowsNeedAndFilters) {
  Document a(actor(1));
  for (int i = 0; i < 5; ++i) edit(a, "k", i);
  const auto infos = a.changes_info();
  std::vector<ChangeHash> all;
  for (const auto& i : infos) all.push_back(i.hash);

  // No have: exactly the requested hashes we know.
  EXPECT_EQ(hashes_to_send(a, {}, {all[2], hash_of("ff")}), std::vector<ChangeHash>{all[2]});

  // A filter holding the first three: the last two (in causal order) are missing.
  auto have_three = std::vector<Have>{
      Have{{}, BloomFilter::from_hashes(std::span<const ChangeHash>(all.data(), 3))}};
  auto missing = hashes_to_send(a, have_three, {});
  EXPECT_EQ(missing, (std::vector<ChangeHash>{all[3], all[4]}));

  // A filter without the second change: it and every dependent change must be sent.
  std::vector<ChangeHash> some = {all[0], all[2], all[3], all[4]};
  auto have_gap = std::vector<Have>{Have{{}, BloomFilter::from_hashes(some)}};
  EXPECT_EQ(hashes_to_send(a, have_gap, {}),
            (std::vector<ChangeHash>{all[1], all[2], all[3], all[4]}));

  // lastSync covering everything up to the third change: only later changes are considered.
  auto have_sync = std::vector<Have>{Have{{all[2]}, {}}};
  EXPECT_EQ(hashes_to_send(a, have_sync, {}), (std::vector<ChangeHash>{all[3], all[4]}));
}

TEST(SyncProtocol, BadMessageLeavesStateAndDocumentUnchanged) {
  Document a(actor(1));
  edit(a, "k", 1);
  State s;
  const auto before = a.get_heads();
  auto st = receive_sync_message(a, s, hex("42 01 00"));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "INVALID_SYNC_MESSAGE");

  Message m;
  m.heads = {hash_of("ee")};
  m.changes = {hex("856f4a83 00000000 01 02 0000")};  // bad checksum
  EXPECT_FALSE(receive_message(a, s, m).ok());
  EXPECT_EQ(s, State{});
  EXPECT_EQ(a.get_heads(), before);
}

TEST(SyncProtocol, ReadOnlyPeerIsSentNothingAndReadOnlySideAsksNothing) {
  Document a(actor(1));
  edit(a, "k", 1);
  Document b(actor(2));
  State sa, sb;
  sb.read_only = true;
  auto st = sync_pair(a, sa, b, sb);
  EXPECT_TRUE(st.converged);
  EXPECT_TRUE(sa.peer_read_only);
  EXPECT_TRUE(b.get_heads().empty());
}

TEST(SyncProtocol, ResetFlagIsSentAndHonoured) {
  Document a(actor(1));
  for (int i = 0; i < 3; ++i) edit(a, "k", i);
  Document b(actor(2));
  State sa, sb;
  ASSERT_TRUE(sync_pair(a, sa, b, sb).converged);
  ASSERT_TRUE(sa.their_capabilities && sa.their_capabilities->sync_reset);

  // A peer that supports SYNC_RESET gets the flag once.
  sb.needs_reset = true;
  edit(b, "more", 1);
  auto m = generate_message(b, sb);
  ASSERT_TRUE(m && m->trailer && m->trailer->flags);
  EXPECT_EQ(*m->trailer->flags, kFlagSupportsSyncReset | kFlagSyncReset);
  EXPECT_FALSE(sb.needs_reset);
  EXPECT_EQ(m->heads, b.get_heads());

  ASSERT_TRUE(receive_message(a, sa, *m).ok());

  // Receiving the flag clears what we believe we sent (here nothing else would).
  Message flagged;
  flagged.heads = {hash_of("66")};
  flagged.trailer = Trailer{{kCapabilityV2}, kFlagSupportsSyncReset};
  sa.sent_hashes = {hash_of("77")};
  ASSERT_TRUE(receive_message(a, sa, flagged).ok());
  EXPECT_EQ(sa.sent_hashes.size(), 1u);
  flagged.trailer->flags = kFlagSupportsSyncReset | kFlagSyncReset;
  ASSERT_TRUE(receive_message(a, sa, flagged).ok());
  EXPECT_TRUE(sa.sent_hashes.empty());

  // A peer without the capability is sent empty heads instead.
  State legacy;
  legacy.their_capabilities = PeerCapabilities{true, false};
  legacy.needs_reset = true;
  auto m2 = generate_message(b, legacy);
  ASSERT_TRUE(m2);
  EXPECT_TRUE(m2->heads.empty());
  EXPECT_EQ(*m2->trailer->flags, kFlagSupportsSyncReset);
}

TEST(SyncProtocol, BloomFalsePositivesAreRepairedThroughNeed) {
  Document a(actor(1));
  for (int i = 0; i < 3; ++i) edit(a, "k", i);
  Document b = a.fork(actor(2));
  State sa, sb;
  ASSERT_TRUE(sync_pair(a, sa, b, sb).converged);
  for (int i = 0; i < 4; ++i) edit(a, "late" + std::to_string(i), i);

  // b's filters claim everything (every bit set): a believes b has its 4 new changes.
  auto everything = BloomFilter::decode(hex("0a0a07" + std::string(26, 'f')));
  ASSERT_TRUE(everything.ok());
  int messages = 0;
  for (int round = 0; round < 20; ++round) {
    auto m1 = generate_message(a, sa);
    if (m1) {
      ++messages;
      ASSERT_TRUE(receive_message(b, sb, *m1).ok());
    }
    auto m2 = generate_message(b, sb);
    if (m2) {
      ++messages;
      for (auto& h : m2->have) h.bloom = *everything;
      ASSERT_TRUE(receive_message(a, sa, *m2).ok());
    }
    if (!m1 && !m2) break;
  }
  EXPECT_EQ(b.get_heads(), a.get_heads());
  EXPECT_EQ(b.changes_info().size(), 7u);
  EXPECT_LE(messages, 20);
}

TEST(SyncProtocol, GenerateTwiceSaysNothingTheSecondTime) {
  Document a(actor(1));
  edit(a, "k", 1);
  State s;
  EXPECT_TRUE(generate_sync_message(a, s));
  EXPECT_FALSE(generate_sync_message(a, s)) << "in flight: no duplicate message";
}

}  // namespace
}  // namespace peat::doc::sync
