#include "peat/lite/protocol.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "peat/lite/json_mapping.hpp"

namespace peat::lite {
namespace {

Bytes hex(std::string_view h) {
  return from_hex(h).value();
}

TEST(LiteHeader, MatchesTheSpecExample) {
  auto p = encode_packet({MessageType::kHeartbeat, 0, 0x12345678, 42}, {});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(to_hex(*p), "5045415401020000785634122a000000");
  auto d = decode_packet(*p);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->header, (Header{MessageType::kHeartbeat, 0, 0x12345678, 42}));
  EXPECT_TRUE(d->payload.empty());
}

TEST(LiteHeader, RoundTripsEveryTypeWithPayload) {
  for (int t = 0; t < 256; ++t) {
    auto type = message_type_from_u8(static_cast<std::uint8_t>(t));
    if (!type) continue;
    Header h{*type, 0x1234, 0xDEADBEEF, 7};
    auto p = encode_packet(h, Bytes{0xAA, 0xBB});
    auto d = decode_packet(*p);
    ASSERT_TRUE(d.ok()) << t;
    EXPECT_EQ(d->header, h);
    EXPECT_EQ(d->payload, (Bytes{0xAA, 0xBB}));
    EXPECT_STRNE(to_string(*type), "UNKNOWN");
  }
}

TEST(LiteHeader, DecodeErrors) {
  auto good = encode_packet({MessageType::kAnnounce, 0, 1, 1}, {}).value();
  EXPECT_EQ(decode_packet(ByteView(good).first(10)).error().code, "LITE_TOO_SHORT");
  auto bad = good;
  bad[0] = 'E';
  EXPECT_EQ(decode_packet(bad).error().code, "LITE_INVALID_MAGIC");
  bad = good;
  bad[4] = 99;
  EXPECT_EQ(decode_packet(bad).error().code, "LITE_UNSUPPORTED_VERSION");
  for (std::uint8_t t : {0x00, 0x08, 0x0F, 0x17, 0xFF}) {
    bad = good;
    bad[5] = t;
    EXPECT_EQ(decode_packet(bad).error().code, "LITE_INVALID_MESSAGE_TYPE");
  }
  bad = good;
  bad.resize(513);
  EXPECT_EQ(decode_packet(bad).error().code, "LITE_PAYLOAD_TOO_LARGE");
  bad.resize(512);
  EXPECT_TRUE(decode_packet(bad).ok());
  EXPECT_EQ(encode_packet({}, Bytes(497)).error().code, "LITE_PAYLOAD_TOO_LARGE");
  EXPECT_TRUE(encode_packet({}, Bytes(496)).ok());
}

TEST(LiteIdentity, HostnameFoldAndPeerIds) {
  EXPECT_EQ(node_id_from_hostname(""), 0u);
  EXPECT_EQ(node_id_from_hostname("ab"), 97u * 31 + 98);
  // Wraps as u32: 31^k growth overflows for long names.
  std::uint32_t h = 0;
  for (char c : std::string("peat-mesh-node-0.peat-mesh.default.svc")) h = h * 31 + std::uint8_t(c);
  EXPECT_EQ(node_id_from_hostname("peat-mesh-node-0.peat-mesh.default.svc"), h);
  EXPECT_EQ(peer_id_for(0x4D355443), "lite-4D355443");
  EXPECT_EQ(peer_id_for(0xab), "lite-000000AB");
  EXPECT_EQ(node_id_from_peer_id("lite-4d355443"), 0x4D355443u);
  EXPECT_FALSE(node_id_from_peer_id("lite-4D35544"));
  EXPECT_FALSE(node_id_from_peer_id("lite-4D35544G"));
  EXPECT_FALSE(node_id_from_peer_id("4D355443"));
}

TEST(LitePayloads, AnnounceAckAndCapabilities) {
  EXPECT_EQ(encode_announce(caps::kLite), (Bytes{0x88, 0x00}));
  EXPECT_EQ(*decode_announce(Bytes{0x7F, 0x00, 0x99}), caps::kFull);
  EXPECT_EQ(decode_announce(Bytes{0x01}).error().code, "LITE_TRUNCATED_FIELD");
  EXPECT_EQ(caps::to_string(caps::kLite), "[prim-crdt, sensor]");
  EXPECT_EQ(caps::to_string(0), "[]");
  EXPECT_TRUE(caps::can_sync(caps::kLite, caps::kFull));
  EXPECT_FALSE(caps::can_sync(caps::kSensorInput, caps::kFull));
  EXPECT_EQ(*decode_ack(encode_ack(0x01020304)), 0x01020304u);
  EXPECT_EQ(decode_ack(Bytes{1, 2, 3}).error().code, "LITE_TRUNCATED_FIELD");
}

TEST(LitePayloads, DataStripsTtlSuffix) {
  auto [payload, flags] = encode_data({CrdtType::kGCounter, Bytes{1, 2, 3}, 300});
  EXPECT_EQ(flags, kFlagHasTtl);
  EXPECT_EQ(to_hex(payload), "020102032c010000");
  auto d = decode_data(flags, payload);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->crdt_type, CrdtType::kGCounter);
  EXPECT_EQ(d->crdt, (Bytes{1, 2, 3}));
  EXPECT_EQ(d->ttl_secs, 300u);
  // Without the flag the last bytes are data.
  EXPECT_EQ(decode_data(0, payload)->crdt.size(), 7u);
  // Flag set but fewer than 4 bytes after the type byte: no TTL (peat-lite strip_ttl).
  auto short_ttl = decode_data(kFlagHasTtl, Bytes{1, 9, 9});
  EXPECT_EQ(short_ttl->crdt, (Bytes{9, 9}));
  EXPECT_FALSE(short_ttl->ttl_secs);
  EXPECT_EQ(decode_data(0, {}).error().code, "LITE_TRUNCATED_FIELD");
  EXPECT_EQ(decode_data(0, Bytes{0xFF}).error().code, "LITE_INVALID_CRDT_TYPE");
  EXPECT_EQ(default_ttl(CrdtType::kLwwRegister), 300u);
  EXPECT_EQ(default_ttl(CrdtType::kGCounter), 3600u);
  EXPECT_EQ(default_ttl(CrdtType::kPnCounter), 3600u);
  EXPECT_EQ(default_ttl(CrdtType::kOrSet), 0u);
}

TEST(LitePayloads, Query) {
  QueryRequest q{CrdtType::kGCounter, "lite_sensors", "temp"};
  auto bytes = encode_query(q);
  EXPECT_EQ(to_hex(*bytes), "020c6c6974655f73656e736f72730474656d70");
  EXPECT_EQ(*decode_query(*bytes), q);
  QueryRequest all{CrdtType::kOrSet, "alerts", std::nullopt};
  EXPECT_EQ(*decode_query(*encode_query(all)), all);
  EXPECT_EQ(decode_query(Bytes{0xFF, 0, 0}).error().code, "LITE_INVALID_CRDT_TYPE");
  EXPECT_EQ(decode_query(Bytes{2, 5, 'a'}).error().code, "LITE_TRUNCATED_FIELD");
  EXPECT_EQ(decode_query(Bytes{2, 1, 'a'}).error().code, "LITE_TRUNCATED_FIELD");
  EXPECT_EQ(decode_query(Bytes{2, 1, 0xC3, 0}).error().code, "LITE_INVALID_UTF8");
  EXPECT_EQ(encode_query({CrdtType::kGCounter, std::string(256, 'x'), {}}).error().code,
            "LITE_FIELD_TOO_LARGE");
}

TEST(LiteCrdt, LwwBothLayouts) {
  LwwRegister r{1700000000000, 0x4D355443, Bytes{0x2A, 0, 0, 0}};
  auto device = encode_lww(r);
  EXPECT_EQ(device->size(), 18u);
  EXPECT_EQ(*decode_lww(*device), r);
  auto unprefixed = encode_lww_unprefixed(r);
  EXPECT_EQ(unprefixed.size(), 16u);
  EXPECT_EQ(*decode_lww(unprefixed), r);
  EXPECT_EQ(decode_lww(Bytes(11)).error().code, "LITE_TRUNCATED_FIELD");
  EXPECT_TRUE(decode_lww(Bytes(12))->value.empty());
}

TEST(LiteCrdt, CountersAndSet) {
  GCounter g{0x11, {{0xA, 5}, {0xB, 10}}};
  auto gb = encode_gcounter(g);
  EXPECT_EQ(gb->size(), 6u + 2 * 12);
  EXPECT_EQ(*decode_gcounter(*gb), g);
  EXPECT_EQ(g.total(), 15u);
  PnCounter pn{0x22, {{0xA, 10, 2}, {0xB, 5, 2}}};
  EXPECT_EQ(*decode_pncounter(*encode_pncounter(pn)), pn);
  EXPECT_EQ(pn.net(), 11);
  OrSet s{0x33, {{1, 1, to_bytes("alpha")}, {2, 7, {}}}};
  EXPECT_EQ(*decode_orset(*encode_orset(s)), s);
  // Truncations and counts larger than the bytes present.
  EXPECT_EQ(decode_gcounter(Bytes{1, 2, 3}).error().code, "LITE_TRUNCATED_FIELD");
  EXPECT_EQ(decode_gcounter(hex("00000000ffff")).error().code, "LITE_TRUNCATED_FIELD");
  EXPECT_EQ(decode_pncounter(hex("000000000100"
                                 "01000000"))
                .error()
                .code,
            "LITE_TRUNCATED_FIELD");
  EXPECT_EQ(decode_orset(hex("00000000ffff")).error().code, "LITE_TRUNCATED_FIELD");
  EXPECT_EQ(decode_orset(hex("000000000100"
                             "01000000"
                             "01000000"
                             "0500"
                             "61"))
                .error()
                .code,
            "LITE_TRUNCATED_FIELD");
}

TEST(LiteDocument, RoundTripAndLayout) {
  DocumentEnvelope d{0, "markers", "m-1", 1700000000123, to_bytes(R"({"a":1})")};
  auto bytes = encode_document(d);
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(bytes->size(), 14u + 7 + 3 + 7);
  EXPECT_EQ(to_hex(ByteView(*bytes).first(9)), "00076d61726b657273");
  EXPECT_EQ(*decode_document(*bytes), d);
  DocumentEnvelope tomb{kDocFlagTombstone, "markers", "", 1, {}};
  auto t = decode_document(*encode_document(tomb));
  EXPECT_TRUE(t->tombstone());
  EXPECT_TRUE(t->doc_id.empty());
}

TEST(LiteDocument, EncoderContract) {
  DocumentEnvelope d{0, "c", "id", 0, {}};
  auto code = [](DocumentEnvelope e) { return encode_document(e).error().code; };
  auto e = d;
  e.flags = kDocFlagEncrypted;
  EXPECT_EQ(code(e), "LITE_INVALID_FLAGS");
  e.flags = 0x04;
  EXPECT_EQ(code(e), "LITE_INVALID_FLAGS");
  e = d;
  e.collection.clear();
  EXPECT_EQ(code(e), "LITE_EMPTY_COLLECTION");
  e = d;
  e.collection = std::string("a\0b", 3);
  EXPECT_EQ(code(e), "LITE_INVALID_UTF8");
  e = d;
  e.doc_id = std::string("a\0", 2);
  EXPECT_EQ(code(e), "LITE_INVALID_UTF8");
  e = d;
  e.flags = kDocFlagTombstone;
  e.body = {1};
  EXPECT_EQ(code(e), "LITE_TOMBSTONE_WITH_BODY");
  e = d;
  e.collection = std::string(256, 'c');
  EXPECT_EQ(code(e), "LITE_FIELD_TOO_LARGE");
  e = d;
  e.body = Bytes(65536);
  EXPECT_EQ(code(e), "LITE_FIELD_TOO_LARGE");
  e.body = Bytes(65535);
  EXPECT_TRUE(encode_document(e).ok());
}

TEST(LiteDocument, DecoderErrorsAndPermissiveFlags) {
  auto good = encode_document({0, "c", "id", 5, {1, 2}}).value();
  EXPECT_EQ(decode_document(Bytes{0}).error().code, "LITE_TOO_SHORT");
  EXPECT_EQ(decode_document(Bytes{0, 0}).error().code, "LITE_EMPTY_COLLECTION");
  for (std::size_t n = 2; n < good.size(); ++n) {
    EXPECT_EQ(decode_document(ByteView(good).first(n)).error().code, "LITE_TRUNCATED_FIELD") << n;
  }
  auto bad = good;
  bad[2] = 0xFF;
  EXPECT_EQ(decode_document(bad).error().code, "LITE_INVALID_UTF8");
  bad = good;
  bad[2] = 0;
  EXPECT_EQ(decode_document(bad).error().code, "LITE_INVALID_UTF8");
  bad = good;
  bad[0] = 0xFE;  // reserved + encrypted bits: decoded, surfaced
  auto d = decode_document(bad);
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->encrypted());
}

TEST(LiteOta, OfferLayouts) {
  OtaOffer o;
  o.set_version("1.2.3-this-is-too-long");
  EXPECT_EQ(o.version_text(), "1.2.3-this-is-t");
  EXPECT_EQ(o.version[15], 0);
  o.firmware_size = 1000;
  o.total_chunks = 3;
  o.sha256 = Sha256::digest(Bytes(1000, 1));
  o.session_id = 0x0102;
  auto legacy = encode_ota_offer(o);
  EXPECT_EQ(legacy.size(), kOtaOfferSize);
  EXPECT_EQ(to_hex(ByteView(legacy).subspan(16, 8)),
            "e8030000"
            "0300"
            "c001");
  EXPECT_EQ(to_hex(ByteView(legacy).subspan(56, 4)),
            "0201"
            "0000");
  auto back = decode_ota_offer(legacy);
  EXPECT_EQ(back->sha256, o.sha256);
  EXPECT_FALSE(back->signature);
  o.signature.emplace();
  o.signature->fill(0x5A);
  auto v2 = encode_ota_offer(o);
  EXPECT_EQ(v2.size(), kOtaOfferV2Size);
  EXPECT_EQ(to_hex(ByteView(v2).subspan(58, 2)), "0100");
  EXPECT_EQ(decode_ota_offer(v2)->signature, o.signature);
  // Flag set on a 76-byte offer: no signature read (firmware rule).
  auto flagged = legacy;
  flagged[58] = 1;
  EXPECT_FALSE(decode_ota_offer(flagged)->signature);
  EXPECT_EQ(decode_ota_offer(ByteView(legacy).first(75)).error().code, "LITE_TRUNCATED_FIELD");
}

TEST(LiteOta, SmallMessages) {
  auto a = decode_ota_accept(encode_ota_accept({7, 3}));
  EXPECT_EQ(a->session_id, 7);
  EXPECT_EQ(a->resume_chunk, 3);
  auto d = decode_ota_data(encode_ota_data({7, 2, Bytes(448, 1)}).value());
  EXPECT_EQ(d->chunk_num, 2);
  EXPECT_EQ(d->data.size(), 448u);
  EXPECT_EQ(encode_ota_data({7, 2, Bytes(449)}).error().code, "LITE_FIELD_TOO_LARGE");
  EXPECT_EQ(decode_ota_data(hex("07000200c101")).error().code, "LITE_FIELD_TOO_LARGE");
  EXPECT_EQ(decode_ota_data(hex("070002000500aabb")).error().code, "LITE_TRUNCATED_FIELD");
  EXPECT_EQ(decode_ota_ack(encode_ota_ack({7, 9}))->acked_chunk, 9);
  EXPECT_EQ(*decode_ota_complete(encode_ota_complete(7)), 7);
  EXPECT_EQ(encode_ota_result({7, 4}), (Bytes{7, 0, 4, 0}));
  EXPECT_EQ(decode_ota_result(Bytes{7, 0, 4})->code, 4);
  EXPECT_EQ(decode_ota_abort(encode_ota_abort({7, 2}))->reason, 2);
  EXPECT_EQ(decode_ota_abort(Bytes{7, 0}).error().code, "LITE_TRUNCATED_FIELD");
  EXPECT_EQ(ota_result_text(4), "signature invalid");
  EXPECT_EQ(ota_result_text(9), "unknown result 9");
}

TEST(LiteJson, TelemetryDocuments) {
  using nlohmann::json;
  auto g = json::parse(*data_to_json(
      {CrdtType::kGCounter, *encode_gcounter({1, {{0xA, 5}, {0xB, 10}}}), 3600}, 0x4D355443, 99));
  EXPECT_EQ(g["type"], "gcounter");
  EXPECT_EQ(g["total"], 15);
  EXPECT_EQ(g["node_counts"]["0000000A"], 5);
  EXPECT_EQ(g["source_node"], "4D355443");
  EXPECT_EQ(g["ttl_secs"], 3600);
  EXPECT_EQ(g["updated_at"], 99);
  auto pn = json::parse(*data_to_json(
      {CrdtType::kPnCounter, *encode_pncounter({1, {{0xA, 10, 2}, {0xB, 5, 2}}}), {}}, 1, 0));
  EXPECT_EQ(pn["net_value"], 11);
  EXPECT_EQ(pn["node_entries"]["0000000B"]["decrements"], 2);
  EXPECT_FALSE(pn.contains("ttl_secs"));
  auto os = json::parse(
      *data_to_json({CrdtType::kOrSet, *encode_orset({1, {{2, 3, to_bytes("hi")}}}), {}}, 1, 0));
  EXPECT_EQ(os["count"], 1);
  EXPECT_EQ(os["elements"][0]["value"], "6869");
  EXPECT_EQ(os["elements"][0]["tag_node"], "00000002");
  auto lww = json::parse(*data_to_json(
      {CrdtType::kLwwRegister, *encode_lww({5, 2, Bytes{0xFE, 0xFF, 0xFF, 0xFF}}), 300}, 1, 0));
  EXPECT_EQ(lww["type"], "lww_register");
  EXPECT_EQ(lww["value_i32"], -2);
  EXPECT_EQ(lww["value_hex"], "feffffff");
  EXPECT_EQ(lww["timestamp"], 5);
  auto text = json::parse(
      *data_to_json({CrdtType::kLwwRegister, *encode_lww({5, 2, to_bytes("23.5C")}), {}}, 1, 0));
  EXPECT_EQ(text["value_text"], "23.5C");
  EXPECT_EQ(data_to_json({CrdtType::kGCounter, Bytes{1}, {}}, 1, 0).error().code,
            "LITE_TRUNCATED_FIELD");
}

TEST(LiteJson, DocumentsAndCommands) {
  using nlohmann::json;
  auto j = json::parse(document_to_json({0, "c", "d", 7, to_bytes(R"({"x":1})")}, 0xAB));
  EXPECT_EQ(j["x"], 1);
  EXPECT_EQ(j["timestamp_ms"], 7);
  EXPECT_EQ(j["source_node"], "000000AB");
  auto raw = json::parse(document_to_json({0, "c", "d", 7, Bytes{0x01, 0x02}}, 0xAB));
  EXPECT_EQ(raw["body_hex"], "0102");

  auto alert = json_to_data(R"({"message":"RTB now","priority":1})", 0x77, 1234);
  ASSERT_TRUE(alert.ok());
  EXPECT_EQ(alert->crdt_type, CrdtType::kLwwRegister);
  auto reg = decode_lww(alert->crdt);
  EXPECT_EQ(reg->timestamp, 1234u);
  EXPECT_EQ(reg->node_id, 0x77u);
  EXPECT_EQ(std::string(reg->value.begin(), reg->value.end()),
            R"({"message":"RTB now","priority":1})");
  auto counts = json_to_data(R"({"node_counts":{"0000000A":5,"b":10}})", 0x77, 0);
  EXPECT_EQ(counts->crdt_type, CrdtType::kGCounter);
  EXPECT_EQ(decode_gcounter(counts->crdt)->total(), 15u);
  EXPECT_EQ(decode_gcounter(counts->crdt)->local_node_id, 0u);
  auto pn = json_to_data(R"({"node_entries":{"A":{"increments":3,"decrements":1}}})", 0x77, 0);
  EXPECT_EQ(decode_pncounter(pn->crdt)->net(), 2);
  auto set = json_to_data(R"({"elements":[{"tag_node":"2","tag_seq":3,"value":"6869"}]})", 1, 0);
  EXPECT_EQ(decode_orset(set->crdt)->elements[0].value, to_bytes("hi"));
  EXPECT_EQ(json_to_data("[1]", 1, 0).error().code, "INVALID_JSON");
  EXPECT_EQ(json_to_data(R"({"node_counts":{"xyz":1}})", 1, 0).error().code, "INVALID_JSON");
  EXPECT_EQ(json_to_data(R"({"node_counts":{"a":"x"}})", 1, 0).error().code, "INVALID_JSON");
}

}  // namespace
}  // namespace peat::lite
