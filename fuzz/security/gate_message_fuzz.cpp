// The mesh's Layer-2 gate on outside bytes (src/mesh/certificate_gate.cpp, docs/certificates.md):
// decode_gate_message never crashes and accepted input round-trips; the same bytes as a control
// message from a connected peer (pending or admitted) never crash the gate, and whatever it
// decides, a refused peer gets no sync messages through.
#include <cstddef>
#include <cstdint>

#include "fuzz_check.hpp"
#include "peat/common/random.hpp"
#include "peat/mesh/certificate_gate.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace peat;
  ByteView in(data, size);
  Bytes input(in.begin(), in.end());
  if (auto m = mesh::decode_gate_message(in)) {
    PEAT_FUZZ_CHECK(mesh::encode_gate_message(*m) == input);
  }
  // Deterministic keys: an authority and a peer with a certificate, another without.
  static SeededRng rng(7);
  static const auto authority = security::DeviceKeypair::generate(rng);
  static const auto known = security::DeviceKeypair::generate(rng);
  static const auto stranger = security::DeviceKeypair::generate(rng);
  constexpr UnixMillis kNow = 1'700'000'000'000;
  security::CertificateBundle bundle("peat");
  bundle.add_authority(authority.public_key_bytes());
  auto cert = security::MeshCertificate::issue(authority, known.public_key_bytes(), "peat", "k",
                                               security::MeshTier::Edge, 3, kNow, kNow + 1000);
  PEAT_FUZZ_CHECK(cert.ok() && bundle.add_certificate(*cert, kNow).ok());
  for (bool require : {true, false}) {
    mesh::CertificateGate gate(bundle, {.require = require});
    gate.on_connected("a", known.public_key_bytes(), kNow);
    gate.on_connected("b", stranger.public_key_bytes(), kNow);
    for (const char* peer : {"a", "b", "unknown"}) {
      auto d = gate.on_control(peer, in, kNow + 1);
      if (d.verdict == mesh::GateVerdict::kRefused) {
        PEAT_FUZZ_CHECK(gate.on_sync_message(peer, Bytes{1}) ==
                        mesh::CertificateGate::Inbound::kDropped);
      }
    }
    (void)gate.recheck(kNow + 2);
    (void)gate.on_timer(kNow + 10'000);
  }
  return 0;
}
