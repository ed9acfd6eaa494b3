// Security primitives: peat::security next to the raw libsodium calls they wrap, in one run,
// so the wrapper overhead is visible.
#include <benchmark/benchmark.h>
#include <sodium.h>

#include "peat/security/aead.hpp"
#include "peat/security/certificate.hpp"
#include "peat/security/formation_key.hpp"
#include "peat/security/hkdf.hpp"
#include "peat/security/keypair.hpp"
#include "peat/security/os_rng.hpp"
#include "peat/security/x25519.hpp"

namespace {

using namespace peat::security;

const DeviceKeypair& test_key() {
  static const DeviceKeypair kp = *DeviceKeypair::from_secret_bytes(peat::Bytes(32, 7));
  return kp;
}

// --- Ed25519 -----------------------------------------------------------------------------

void BM_Ed25519Sign_Peat(benchmark::State& state) {
  peat::Bytes msg(64, 0x5a);
  for (auto _ : state) benchmark::DoNotOptimize(test_key().sign(msg));
}
BENCHMARK(BM_Ed25519Sign_Peat);

void BM_Ed25519Sign_Sodium(benchmark::State& state) {
  unsigned char pk[32], sk[64], sig[64];
  peat::Bytes seed(32, 7), msg(64, 0x5a);
  if (crypto_sign_seed_keypair(pk, sk, seed.data()) != 0) state.SkipWithError("keypair");
  for (auto _ : state) {
    crypto_sign_detached(sig, nullptr, msg.data(), msg.size(), sk);
    benchmark::DoNotOptimize(sig);
  }
}
BENCHMARK(BM_Ed25519Sign_Sodium);

void BM_Ed25519Verify_Peat(benchmark::State& state) {
  peat::Bytes msg(64, 0x5a);
  auto sig = test_key().sign(msg);
  for (auto _ : state) benchmark::DoNotOptimize(test_key().verify(msg, sig).ok());
}
BENCHMARK(BM_Ed25519Verify_Peat);

void BM_Ed25519Verify_Sodium(benchmark::State& state) {
  unsigned char pk[32], sk[64], sig[64];
  peat::Bytes seed(32, 7), msg(64, 0x5a);
  if (crypto_sign_seed_keypair(pk, sk, seed.data()) != 0) state.SkipWithError("keypair");
  crypto_sign_detached(sig, nullptr, msg.data(), msg.size(), sk);
  for (auto _ : state) {
    benchmark::DoNotOptimize(crypto_sign_verify_detached(sig, msg.data(), msg.size(), pk));
  }
}
BENCHMARK(BM_Ed25519Verify_Sodium);

// Certificate verification = encode signable bytes + public-key validation + Ed25519 verify.
void BM_CertificateVerify_Peat(benchmark::State& state) {
  auto cert = *MeshCertificate::new_root(test_key(), "A1B2C3D4", "node-1", MeshTier::Tactical,
                                         1'700'000'000'000ULL, 0);
  for (auto _ : state) benchmark::DoNotOptimize(cert.verify().ok());
}
BENCHMARK(BM_CertificateVerify_Peat);

// --- ChaCha20-Poly1305 (IETF) ------------------------------------------------------------

void BM_AeadSeal_Peat(benchmark::State& state) {
  SecretKey key;
  AeadNonce nonce{};
  peat::Bytes pt(static_cast<std::size_t>(state.range(0)), 0x11);
  for (auto _ : state) benchmark::DoNotOptimize(aead_seal(key, nonce, pt));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_AeadSeal_Peat)->Arg(1024)->Arg(64 * 1024);

void BM_AeadSeal_Sodium(benchmark::State& state) {
  unsigned char key[32] = {}, nonce[12] = {};
  peat::Bytes pt(static_cast<std::size_t>(state.range(0)), 0x11);
  peat::Bytes out(pt.size() + 16);
  for (auto _ : state) {
    unsigned long long n = 0;
    crypto_aead_chacha20poly1305_ietf_encrypt(out.data(), &n, pt.data(), pt.size(), nullptr, 0,
                                              nullptr, nonce, key);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_AeadSeal_Sodium)->Arg(1024)->Arg(64 * 1024);

void BM_AeadOpen_Peat(benchmark::State& state) {
  SecretKey key;
  AeadNonce nonce{};
  peat::Bytes pt(static_cast<std::size_t>(state.range(0)), 0x11);
  peat::Bytes ct = aead_seal(key, nonce, pt);
  for (auto _ : state) benchmark::DoNotOptimize(aead_open(key, nonce, ct).ok());
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_AeadOpen_Peat)->Arg(1024)->Arg(64 * 1024);

void BM_AeadOpen_Sodium(benchmark::State& state) {
  unsigned char key[32] = {}, nonce[12] = {};
  peat::Bytes pt(static_cast<std::size_t>(state.range(0)), 0x11);
  peat::Bytes ct(pt.size() + 16), out(pt.size());
  unsigned long long n = 0;
  crypto_aead_chacha20poly1305_ietf_encrypt(ct.data(), &n, pt.data(), pt.size(), nullptr, 0,
                                            nullptr, nonce, key);
  for (auto _ : state) {
    benchmark::DoNotOptimize(crypto_aead_chacha20poly1305_ietf_decrypt(
        out.data(), &n, nullptr, ct.data(), ct.size(), nullptr, 0, nonce, key));
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_AeadOpen_Sodium)->Arg(1024)->Arg(64 * 1024);

// --- HKDF-SHA256 / HMAC ------------------------------------------------------------------

void BM_Hkdf32_Peat(benchmark::State& state) {
  peat::Bytes ikm(32, 3);
  for (auto _ : state) {
    benchmark::DoNotOptimize(hkdf32(peat::as_bytes("salt"), ikm, peat::as_bytes("info")));
  }
}
BENCHMARK(BM_Hkdf32_Peat);

// The same extract + one expand block written directly against libsodium's HMAC.
void BM_Hkdf32_Sodium(benchmark::State& state) {
  peat::Bytes ikm(32, 3);
  const unsigned char salt[] = "salt";
  const unsigned char info[] = "info\x01";
  for (auto _ : state) {
    unsigned char prk[32], okm[32];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, salt, 4);
    crypto_auth_hmacsha256_update(&st, ikm.data(), ikm.size());
    crypto_auth_hmacsha256_final(&st, prk);
    crypto_auth_hmacsha256_init(&st, prk, 32);
    crypto_auth_hmacsha256_update(&st, info, 5);
    crypto_auth_hmacsha256_final(&st, okm);
    benchmark::DoNotOptimize(okm);
  }
}
BENCHMARK(BM_Hkdf32_Sodium);

void BM_FormationVerify_Peat(benchmark::State& state) {
  FormationKey key("alpha-company", SecretKey{});
  FormationNonce nonce{};
  auto proof = key.respond(nonce);
  for (auto _ : state) benchmark::DoNotOptimize(key.verify_response(nonce, proof));
}
BENCHMARK(BM_FormationVerify_Peat);

// --- X25519 ------------------------------------------------------------------------------

void BM_X25519Agree_Peat(benchmark::State& state) {
  OsRng rng;
  auto a = X25519Keypair::generate(rng);
  auto b = X25519Keypair::generate(rng);
  for (auto _ : state) benchmark::DoNotOptimize(a.agree(b.public_key()).ok());
}
BENCHMARK(BM_X25519Agree_Peat);

void BM_X25519Agree_Sodium(benchmark::State& state) {
  unsigned char a[32], b[32], bpub[32], shared[32];
  randombytes_buf(a, 32);
  randombytes_buf(b, 32);
  crypto_scalarmult_base(bpub, b);
  for (auto _ : state) benchmark::DoNotOptimize(crypto_scalarmult(shared, a, bpub));
}
BENCHMARK(BM_X25519Agree_Sodium);

void BM_X25519Ephemeral_Peat(benchmark::State& state) {
  OsRng rng;
  auto server = X25519Keypair::generate(rng);
  for (auto _ : state) benchmark::DoNotOptimize(ephemeral_agree(server.public_key(), rng).ok());
}
BENCHMARK(BM_X25519Ephemeral_Peat);

}  // namespace

int main(int argc, char** argv) {
  if (sodium_init() < 0) return 1;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
