#include "revoke_command.hpp"

#include <cctype>
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <string>

#include "peat/common/bytes.hpp"
#include "peat/common/clock.hpp"
#include "peat/mesh/certificate_store.hpp"
#include "peat/security/node_identity.hpp"
#include "peat/security/trust.hpp"

namespace peat::cli {
namespace {

struct RevokeArgs {
  std::string formation_secret;
  std::string authority_key_file;
  std::string subject;
  std::string hostname;
  std::string reason = "revoked";
  std::string out;
};

int fail(const std::string& message) {
  std::fprintf(stderr, "peat-mesh revoke: %s\n", message.c_str());
  return 1;
}

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.erase(s.begin());
  return s;
}

int run(const RevokeArgs& a) {
  std::optional<Bytes> seed;
  if (!a.formation_secret.empty()) {
    auto decoded = from_base64(trim(a.formation_secret));
    if (!decoded) return fail("formation secret: " + decoded.error().message);
    seed = std::move(decoded.value());
  }
  // The signer: the authority key file, else the authority derived from the formation secret.
  std::optional<security::DeviceKeypair> authority;
  if (!a.authority_key_file.empty()) {
    auto kp = security::DeviceKeypair::load_from_file(a.authority_key_file);
    if (!kp) return fail(kp.error().to_string());
    authority = std::move(kp.value());
  } else if (seed) {
    authority = security::node_authority_keypair(*seed);
  } else {
    return fail("a signer is needed: --authority-key-file or --formation-secret");
  }
  // The subject: a QUIC key in hex, or the key peat-mesh-node derives for a hostname.
  security::PublicKeyBytes subject{};
  if (!a.subject.empty()) {
    auto key = security::PublicKey::from_hex(a.subject);
    if (!key) return fail("--subject: " + key.error().message);
    subject = key->bytes();
  } else if (!a.hostname.empty() && seed) {
    subject = security::node_endpoint_keypair(*seed, a.hostname).public_key_bytes();
  } else {
    return fail(
        "the node to revoke: --subject <QUIC key hex>, or --hostname with --formation-secret");
  }
  auto rev =
      security::Revocation::create(*authority, subject, a.reason, SystemClock().unix_millis());
  if (!rev) return fail(rev.error().to_string());
  auto doc = mesh::revocation_document(*rev);
  if (!doc) return fail(doc.error().to_string());
  const std::string text = doc->dump() + "\n";
  if (a.out.empty()) {
    std::fputs(text.c_str(), stdout);
  } else {
    std::ofstream out(a.out, std::ios::trunc);
    out << text;
    if (!out) return fail("cannot write " + a.out);
  }
  std::fprintf(stderr,
               "write it to any node, e.g. curl -X PUT -H 'Content-Type: application/json' "
               "--data @%s http://<node>:8081/api/v1/documents/revocations/%s\n",
               a.out.empty() ? "<file>" : a.out.c_str(), to_hex(ByteView(subject)).c_str());
  return 0;
}

}  // namespace

void add_revoke_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<RevokeArgs>();
  auto* cmd = app.add_subcommand(
      "revoke", "Sign a revocation of a node's certificate; prints the document to write");
  cmd->add_option("--formation-secret", args->formation_secret,
                  "Base64 formation secret (the authority derives from it)")
      ->envname("PEAT_FORMATION_SECRET");
  cmd->add_option("--authority-key-file", args->authority_key_file,
                  "Signer: the authority's raw 32-byte seed instead (mode 0600)");
  cmd->add_option("--subject", args->subject, "QUIC public key (hex) of the node to revoke");
  cmd->add_option("--hostname", args->hostname,
                  "Or: the node's HOSTNAME (its QUIC key is derived from the formation secret)");
  cmd->add_option("--reason", args->reason, "Why")->capture_default_str();
  cmd->add_option("--out", args->out, "Write the document here instead of stdout");
  cmd->callback([args, &exit_code] { exit_code = run(*args); });
}

}  // namespace peat::cli
