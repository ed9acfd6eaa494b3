#include "enroll_command.hpp"

#include <cctype>
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <string>

#include "peat/common/bytes.hpp"
#include "peat/discovery/peer_info.hpp"
#include "peat/mesh/enrollment_service.hpp"
#include "peat/security/node_identity.hpp"

namespace peat::cli {
namespace {

struct EnrollArgs {
  std::string server;
  std::string server_id;
  std::string token;
  std::string key_file;
  std::string formation_secret;
  std::string hostname;
  std::string node_id;
  std::string mesh_id = "peat";
  std::string tier = "tactical";
  std::string authority;
  std::string out;
  unsigned timeout_ms = 10000;
};

int fail(const std::string& message) {
  std::fprintf(stderr, "peat-mesh enroll: %s\n", message.c_str());
  return 1;
}

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.erase(s.begin());
  return s;
}

int run(const EnrollArgs& a) {
  auto server = discovery::parse_socket_address(a.server);
  if (!server) return fail("--server must be host:port: " + server.error().message);
  // The identity: the node's QUIC key, as peat-mesh-node derives it, or a raw key file.
  std::optional<security::DeviceKeypair> identity;
  std::optional<Bytes> seed;
  std::string node_id = a.node_id;
  if (!a.key_file.empty()) {
    if (!a.formation_secret.empty())
      return fail("give either --key-file or --formation-secret/--hostname, not both");
    auto kp = security::DeviceKeypair::load_from_file(a.key_file);
    if (!kp) return fail(kp.error().to_string());
    identity = std::move(kp.value());
  } else if (!a.formation_secret.empty()) {
    if (a.hostname.empty())
      return fail("--formation-secret needs --hostname (the node's HOSTNAME)");
    auto decoded = from_base64(trim(a.formation_secret));
    if (!decoded) return fail("formation secret: " + decoded.error().message);
    seed = std::move(decoded.value());
    identity = security::node_endpoint_keypair(*seed, a.hostname);
    if (node_id.empty()) node_id = a.hostname;
  } else {
    return fail("an identity is needed: --key-file or --formation-secret with --hostname");
  }
  if (node_id.empty()) node_id = identity->device_id().to_hex();
  auto tier = security::parse_tier(a.tier);
  if (!tier) return fail("--tier must be enterprise, regional, tactical or edge");

  mesh::EnrollClientOptions o;
  o.server_host = server->host;
  o.server_port = server->port;
  o.server_id = a.server_id;
  o.identity = &*identity;
  o.mesh_id = a.mesh_id;
  o.node_id = node_id;
  o.requested_tier = *tier;
  o.token = to_bytes(a.token);
  o.timeout = std::chrono::milliseconds(a.timeout_ms);
  if (!a.authority.empty()) {
    auto key = security::PublicKey::from_hex(a.authority);
    if (!key) return fail("--authority: " + key.error().message);
    o.authority = key->bytes();
  } else if (seed) {
    o.authority = security::node_authority_keypair(*seed).public_key_bytes();
  }
  auto cert = mesh::enroll(o);
  if (!cert) return fail(cert.error().to_string());
  auto wire = cert->encode();
  if (!wire) return fail(wire.error().to_string());
  {
    std::ofstream out(a.out, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(wire->data()),
              static_cast<std::streamsize>(wire->size()));
    if (!out) return fail("cannot write " + a.out);
  }
  std::printf("certificate written to %s\n", a.out.c_str());
  std::printf("subject:     %s\n", to_hex(ByteView(cert->subject_public_key)).c_str());
  std::printf("node_id:     %s\n", cert->node_id.c_str());
  std::printf("mesh_id:     %s\n", cert->mesh_id.c_str());
  std::printf("tier:        %s\n", std::string(security::tier_name(cert->tier)).c_str());
  std::printf("permissions: 0x%02x\n", cert->permissions);
  std::printf("issuer:      %s%s\n", to_hex(ByteView(cert->issuer_public_key)).c_str(),
              o.authority ? " (verified)" : " (NOT pinned: pass --authority to check it)");
  std::printf("expires_ms:  %llu\n", static_cast<unsigned long long>(cert->expires_at_ms));
  return 0;
}

}  // namespace

void add_enroll_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<EnrollArgs>();
  auto* cmd = app.add_subcommand(
      "enroll",
      "Get a certificate for a node's QUIC key from an enrollment server (ALPN peat/enroll/1)");
  cmd->add_option("--server", args->server, "Enrollment endpoint host:port")->required();
  cmd->add_option("--server-id", args->server_id,
                  "The server's endpoint id (logged by its node as server_id=)")
      ->required();
  cmd->add_option("--token", args->token, "Bootstrap token")
      ->envname("PEAT_ENROLLMENT_TOKEN")
      ->required();
  cmd->add_option("--key-file", args->key_file, "Identity: raw 32-byte Ed25519 seed (mode 0600)");
  cmd->add_option("--formation-secret", args->formation_secret,
                  "Identity: the node's base64 formation secret (with --hostname)")
      ->envname("PEAT_FORMATION_SECRET");
  cmd->add_option("--hostname", args->hostname, "Identity: the node's HOSTNAME")
      ->envname("HOSTNAME");
  cmd->add_option("--node-id", args->node_id,
                  "Node id in the certificate (default: --hostname, else the device id)");
  cmd->add_option("--mesh-id", args->mesh_id, "Mesh to enroll in")->capture_default_str();
  cmd->add_option("--tier", args->tier, "Requested tier (the token decides)")
      ->capture_default_str();
  cmd->add_option("--authority", args->authority,
                  "Authority public key (hex) the certificate must be issued by (default with "
                  "--formation-secret: the key derived from it)");
  cmd->add_option("--out", args->out, "Where to write the certificate (wire form)")->required();
  cmd->add_option("--timeout-ms", args->timeout_ms, "How long to wait for the server")
      ->capture_default_str();
  cmd->callback([args, &exit_code] { exit_code = run(*args); });
}

}  // namespace peat::cli
