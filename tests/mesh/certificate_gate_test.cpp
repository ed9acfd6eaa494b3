// CertificateGate (sans-I/O): admission by the peer's QUIC key, presentation, required vs
// warn-and-allow, revocation re-checks, held sync messages, and the control message codec.
#include <gtest/gtest.h>

#include "peat/common/random.hpp"
#include "peat/mesh/certificate_gate.hpp"

namespace peat::mesh {
namespace {

using security::DeviceKeypair;
using security::MeshCertificate;
using security::MeshTier;

constexpr UnixMillis kNow = 1'700'000'000'000;
constexpr UnixMillis kDay = 24ull * 3600 * 1000;

struct GateFixture : ::testing::Test {
  SeededRng rng{42};
  DeviceKeypair authority = DeviceKeypair::generate(rng);
  DeviceKeypair peer_key = DeviceKeypair::generate(rng);
  DeviceKeypair other_key = DeviceKeypair::generate(rng);
  security::CertificateBundle bundle{"peat"};
  const transport::PeerId peer = "peer-1";

  GateFixture() { bundle.add_authority(authority.public_key_bytes()); }

  MeshCertificate cert_for(const DeviceKeypair& subject, const DeviceKeypair& issuer,
                           std::string mesh = "peat") {
    return *MeshCertificate::issue(issuer, subject.public_key_bytes(), std::move(mesh), "n1",
                                   MeshTier::Tactical, security::permissions::kStandard, kNow,
                                   kNow + kDay);
  }
  Bytes present(const MeshCertificate& c) {
    return encode_gate_message({GateMessage::Type::kPresent, *c.encode()});
  }
};

TEST_F(GateFixture, AKnownCertificateAdmitsAtOnce) {
  ASSERT_TRUE(bundle.add_certificate(cert_for(peer_key, authority), kNow).ok());
  CertificateGate gate(bundle, {.require = true});
  auto d = gate.on_connected(peer, peer_key.public_key_bytes(), kNow);
  EXPECT_EQ(d.verdict, GateVerdict::kAdmitted);
  EXPECT_TRUE(d.changed);
  EXPECT_TRUE(gate.admitted(peer));
}

TEST_F(GateFixture, ACertificateForAnotherKeyDoesNotAdmit) {
  // The Rust mismatch: a certificate for the device key, the connection made with another key.
  ASSERT_TRUE(bundle.add_certificate(cert_for(other_key, authority), kNow).ok());
  CertificateGate gate(bundle, {.require = true});
  EXPECT_EQ(gate.on_connected(peer, peer_key.public_key_bytes(), kNow).verdict,
            GateVerdict::kPending);
  auto d = gate.on_control(peer, present(cert_for(other_key, authority)), kNow + 1);
  EXPECT_EQ(d.verdict, GateVerdict::kRefused);
  EXPECT_NE(d.reason.find("for another key"), std::string::npos) << d.reason;
}

TEST_F(GateFixture, PresentationAdmitsAFreshlyEnrolledPeer) {
  CertificateGate gate(bundle, {.require = true});
  EXPECT_EQ(gate.on_connected(peer, peer_key.public_key_bytes(), kNow).verdict,
            GateVerdict::kPending);
  // Sync messages that arrive meanwhile are held, then handed back in order.
  EXPECT_EQ(gate.on_sync_message(peer, Bytes{1}), CertificateGate::Inbound::kHeld);
  EXPECT_EQ(gate.on_sync_message(peer, Bytes{2}), CertificateGate::Inbound::kHeld);
  auto d = gate.on_control(peer, present(cert_for(peer_key, authority)), kNow + 5);
  EXPECT_EQ(d.verdict, GateVerdict::kAdmitted);
  EXPECT_EQ(d.previous, GateVerdict::kPending);
  EXPECT_TRUE(d.changed);
  EXPECT_EQ(gate.take_held(peer), (std::vector<Bytes>{{1}, {2}}));
  EXPECT_EQ(gate.on_sync_message(peer, Bytes{3}), CertificateGate::Inbound::kDeliver);
  EXPECT_NE(bundle.get_certificate(peer_key.public_key_bytes()), nullptr);  // learned
}

TEST_F(GateFixture, RequiredRefusesBadPresentationsAndSilence) {
  CertificateGate gate(bundle, {.require = true, .presentation_timeout_ms = 1000});
  gate.on_connected(peer, peer_key.public_key_bytes(), kNow);
  // Issued by a key that is not an authority.
  auto d = gate.on_control(peer, present(cert_for(peer_key, other_key)), kNow + 1);
  EXPECT_EQ(d.verdict, GateVerdict::kRefused);
  EXPECT_NE(d.reason.find("INVALID_CERT_CHAIN"), std::string::npos) << d.reason;
  EXPECT_EQ(gate.on_sync_message(peer, Bytes{1}), CertificateGate::Inbound::kDropped);

  // Wrong mesh.
  const transport::PeerId p2 = "peer-2";
  gate.on_connected(p2, peer_key.public_key_bytes(), kNow);
  EXPECT_EQ(gate.on_control(p2, present(cert_for(peer_key, authority, "other")), kNow).verdict,
            GateVerdict::kRefused);

  // Nothing presented: refused at the deadline, not before.
  const transport::PeerId p3 = "peer-3";
  gate.on_connected(p3, other_key.public_key_bytes(), kNow);
  EXPECT_EQ(gate.next_deadline(), kNow + 1000);
  EXPECT_TRUE(gate.on_timer(kNow + 999).empty());
  auto late = gate.on_timer(kNow + 1000);
  ASSERT_EQ(late.size(), 1u);
  EXPECT_EQ(late[0].peer, p3);
  EXPECT_EQ(late[0].verdict, GateVerdict::kRefused);
  EXPECT_NE(late[0].reason.find("within 1000 ms"), std::string::npos);

  // An empty presentation ("I have none") refuses at once.
  const transport::PeerId p4 = "peer-4";
  gate.on_connected(p4, other_key.public_key_bytes(), kNow);
  EXPECT_EQ(
      gate.on_control(p4, encode_gate_message({GateMessage::Type::kPresent, {}}), kNow).verdict,
      GateVerdict::kRefused);
}

TEST_F(GateFixture, NotRequiredWarnsAndAllows) {
  CertificateGate gate(bundle, {.require = false});
  auto d = gate.on_connected(peer, peer_key.public_key_bytes(), kNow);
  EXPECT_EQ(d.verdict, GateVerdict::kAdmittedUnverified);
  EXPECT_FALSE(d.reason.empty());
  EXPECT_EQ(gate.on_sync_message(peer, Bytes{1}), CertificateGate::Inbound::kDeliver);
  // A bad presentation keeps it unverified; a good one upgrades it.
  EXPECT_EQ(gate.on_control(peer, present(cert_for(peer_key, other_key)), kNow).verdict,
            GateVerdict::kAdmittedUnverified);
  auto up = gate.on_control(peer, present(cert_for(peer_key, authority)), kNow);
  EXPECT_EQ(up.verdict, GateVerdict::kAdmitted);
  EXPECT_EQ(up.previous, GateVerdict::kAdmittedUnverified);
}

TEST_F(GateFixture, RevocationRefusesAnAdmittedPeer) {
  ASSERT_TRUE(bundle.add_certificate(cert_for(peer_key, authority), kNow).ok());
  CertificateGate gate(bundle, {.require = true});
  gate.on_connected(peer, peer_key.public_key_bytes(), kNow);
  ASSERT_TRUE(gate.admitted(peer));
  EXPECT_TRUE(gate.recheck(kNow).empty());  // nothing changed
  auto rev = security::Revocation::create(authority, peer_key.public_key_bytes(), "lost", kNow);
  ASSERT_TRUE(bundle.add_revocation(*rev).ok());
  auto out = gate.recheck(kNow + 1);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].verdict, GateVerdict::kRefused);
  EXPECT_NE(out[0].reason.find("CERTIFICATE_REVOKED"), std::string::npos) << out[0].reason;
  // Reconnecting and presenting the old certificate does not help.
  gate.on_disconnected(peer);
  EXPECT_EQ(gate.on_connected(peer, peer_key.public_key_bytes(), kNow + 2).verdict,
            GateVerdict::kRefused);
}

TEST_F(GateFixture, ExpiryIsCaughtByRecheck) {
  ASSERT_TRUE(bundle.add_certificate(cert_for(peer_key, authority), kNow).ok());
  CertificateGate gate(bundle, {.require = true});
  gate.on_connected(peer, peer_key.public_key_bytes(), kNow);
  auto out = gate.recheck(kNow + kDay);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].verdict, GateVerdict::kRefused);
  EXPECT_NE(out[0].reason.find("CERTIFICATE_EXPIRED"), std::string::npos) << out[0].reason;
}

TEST_F(GateFixture, ARefusalFromThePeerStopsSync) {
  ASSERT_TRUE(bundle.add_certificate(cert_for(peer_key, authority), kNow).ok());
  CertificateGate gate(bundle, {.require = false});
  gate.on_connected(peer, peer_key.public_key_bytes(), kNow);
  auto d = gate.on_control(
      peer, encode_gate_message({GateMessage::Type::kRefused, to_bytes("no certificate")}), kNow);
  EXPECT_EQ(d.verdict, GateVerdict::kRefused);
  EXPECT_EQ(d.reason, "refused by peer: no certificate");
  EXPECT_EQ(gate.on_sync_message(peer, Bytes{1}), CertificateGate::Inbound::kDropped);
}

TEST_F(GateFixture, HeldMessagesAreBounded) {
  CertificateGate gate(bundle, {.require = true, .max_held_messages = 2, .max_held_bytes = 10});
  gate.on_connected(peer, peer_key.public_key_bytes(), kNow);
  EXPECT_EQ(gate.on_sync_message(peer, Bytes(4)), CertificateGate::Inbound::kHeld);
  EXPECT_EQ(gate.on_sync_message(peer, Bytes(7)), CertificateGate::Inbound::kDropped);  // bytes
  EXPECT_EQ(gate.on_sync_message(peer, Bytes(4)), CertificateGate::Inbound::kHeld);
  EXPECT_EQ(gate.on_sync_message(peer, Bytes(1)), CertificateGate::Inbound::kDropped);  // count
  EXPECT_EQ(gate.on_sync_message("unknown", Bytes(1)), CertificateGate::Inbound::kDropped);
}

TEST(GateMessageTest, Codec) {
  GateMessage m{GateMessage::Type::kRefused, to_bytes("why")};
  auto wire = encode_gate_message(m);
  EXPECT_TRUE(is_gate_message(wire));
  auto back = decode_gate_message(wire);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->type, GateMessage::Type::kRefused);
  EXPECT_EQ(back->body, to_bytes("why"));
  EXPECT_FALSE(is_gate_message(to_bytes("{\"json\":1}")));
  EXPECT_FALSE(decode_gate_message(to_bytes("PCG1")).ok());
  EXPECT_FALSE(decode_gate_message(to_bytes("PCG1\x09")).ok());
  EXPECT_FALSE(decode_gate_message(Bytes{'P', 'C', 'G', '1', 2, 0xff}).ok());  // not UTF-8
  Bytes huge = encode_gate_message({GateMessage::Type::kPresent, Bytes(kMaxGateMessage, 0)});
  EXPECT_FALSE(decode_gate_message(huge).ok());
  Bytes long_reason =
      encode_gate_message({GateMessage::Type::kRefused, Bytes(kMaxRefusalReason + 1, 'a')});
  EXPECT_FALSE(decode_gate_message(long_reason).ok());
  // A malformed gate message from a connected peer changes nothing.
  SeededRng rng(1);
  auto k = DeviceKeypair::generate(rng);
  security::CertificateBundle bundle;
  CertificateGate gate(bundle, {.require = true});
  gate.on_connected("p", k.public_key_bytes(), kNow);
  auto d = gate.on_control("p", to_bytes("PCG1\x07"), kNow);
  EXPECT_FALSE(d.changed);
  EXPECT_EQ(d.verdict, GateVerdict::kPending);
}

}  // namespace
}  // namespace peat::mesh
