// The node's TLS credential: its Ed25519 key as an RFC 7250 raw public key in GnuTLS.
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include <sodium.h>

#include <cstring>

#include "peat/transport/quic/connection.hpp"

namespace peat::transport::quic {
namespace {

Error identity_error(const std::string& what, int rv) {
  return make_error("INVALID_IDENTITY", what + ": " + gnutls_strerror(rv));
}

}  // namespace

Result<std::shared_ptr<TlsIdentity>> TlsIdentity::create(const Identity& identity) {
  gnutls_x509_privkey_t x509_key = nullptr;
  gnutls_privkey_t private_key = nullptr;
  gnutls_pubkey_t public_key = nullptr;
  gnutls_datum_t key_pem{nullptr, 0};
  gnutls_datum_t spki_pem{nullptr, 0};
  gnutls_datum_t raw_x{nullptr, 0};
  gnutls_datum_t raw_y{nullptr, 0};
  struct Cleanup {
    gnutls_x509_privkey_t& a;
    gnutls_privkey_t& b;
    gnutls_pubkey_t& c;
    gnutls_datum_t& d;
    gnutls_datum_t& e;
    gnutls_datum_t& f;
    gnutls_datum_t& g;
    ~Cleanup() {
      if (a) gnutls_x509_privkey_deinit(a);
      if (b) gnutls_privkey_deinit(b);
      if (c) gnutls_pubkey_deinit(c);
      gnutls_free(d.data);
      gnutls_free(e.data);
      gnutls_free(f.data);
      gnutls_free(g.data);
    }
  } cleanup{x509_key, private_key, public_key, key_pem, spki_pem, raw_x, raw_y};

  // The public key must be the one the seed derives (GnuTLS would take any claimed key).
  PublicKey derived{};
  std::array<std::uint8_t, 64> secret{};
  if (sodium_init() < 0 ||
      crypto_sign_seed_keypair(derived.data(), secret.data(), identity.seed.data()) != 0) {
    return make_error("INVALID_IDENTITY", "cannot derive the Ed25519 key pair");
  }
  sodium_memzero(secret.data(), secret.size());
  if (derived != identity.public_key) {
    return make_error("INVALID_IDENTITY", "the public key does not belong to the seed");
  }
  std::array<std::uint8_t, 32> seed = identity.seed;
  PublicKey pub = identity.public_key;
  gnutls_datum_t x{pub.data(), static_cast<unsigned>(pub.size())};
  gnutls_datum_t k{seed.data(), static_cast<unsigned>(seed.size())};
  int rv = gnutls_x509_privkey_init(&x509_key);
  if (rv == 0)
    rv = gnutls_x509_privkey_import_ecc_raw(x509_key, GNUTLS_ECC_CURVE_ED25519, &x, nullptr, &k);
  if (rv != 0) return identity_error("cannot import the Ed25519 seed", rv);
  rv = gnutls_x509_privkey_export2(x509_key, GNUTLS_X509_FMT_PEM, &key_pem);
  if (rv == 0) rv = gnutls_privkey_init(&private_key);
  if (rv == 0) rv = gnutls_privkey_import_x509(private_key, x509_key, 0);
  if (rv == 0) rv = gnutls_pubkey_init(&public_key);
  if (rv == 0) rv = gnutls_pubkey_import_privkey(public_key, private_key, 0, 0);
  if (rv == 0) rv = gnutls_pubkey_export2(public_key, GNUTLS_X509_FMT_PEM, &spki_pem);
  if (rv != 0) return identity_error("cannot derive the public key", rv);
  gnutls_ecc_curve_t curve = GNUTLS_ECC_CURVE_INVALID;
  rv = gnutls_pubkey_export_ecc_raw2(public_key, &curve, &raw_x, &raw_y, 0);
  if (rv != 0) return identity_error("cannot export the public key", rv);
  if (curve != GNUTLS_ECC_CURVE_ED25519 || raw_x.size != 32 ||
      std::memcmp(raw_x.data, identity.public_key.data(), 32) != 0) {
    return make_error("INVALID_IDENTITY", "the public key does not belong to the seed");
  }

  gnutls_certificate_credentials_t credentials = nullptr;
  rv = gnutls_certificate_allocate_credentials(&credentials);
  if (rv != 0) return identity_error("cannot allocate credentials", rv);
  rv = gnutls_certificate_set_rawpk_key_mem(credentials, &spki_pem, &key_pem, GNUTLS_X509_FMT_PEM,
                                            nullptr, 0, nullptr, 0, 0);
  if (rv < 0) {
    gnutls_certificate_free_credentials(credentials);
    return identity_error("cannot load the raw public key", rv);
  }
  std::shared_ptr<TlsIdentity> out(new TlsIdentity());
  out->public_key_ = identity.public_key;
  out->peer_id_ = peer_id_from_public_key(identity.public_key);
  out->credentials_ = credentials;
  sodium_memzero(seed.data(), seed.size());
  return out;
}

TlsIdentity::~TlsIdentity() {
  if (credentials_) {
    gnutls_certificate_free_credentials(
        static_cast<gnutls_certificate_credentials_t>(credentials_));
  }
}

}  // namespace peat::transport::quic
