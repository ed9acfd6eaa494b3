// peat-mesh-node: loads (or on first start creates) the node's Ed25519 identity and prints it.
// This first version only manages identity; the mesh itself is added later.
#include <CLI/CLI.hpp>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <system_error>

#include "peat/common/random.hpp"
#include "peat/security/callsign.hpp"
#include "peat/security/keypair.hpp"

namespace {

using peat::security::DeviceKeypair;

// Loads the key file, or creates it (mode 0600) when it does not exist yet.
peat::Result<DeviceKeypair> load_or_create(const std::filesystem::path& path, bool& created) {
  std::error_code ec;
  created = false;
  if (!std::filesystem::exists(path, ec) && !ec) {
    DeviceKeypair kp = DeviceKeypair::generate();
    PEAT_TRY_STATUS(kp.save_to_file(path));
    created = true;
    return kp;
  }
  return DeviceKeypair::load_from_file(path);
}

// A callsign suggestion that stays the same for the same key (callsigns are allocated by the
// mesh, not derived from keys; this only gives a stable default for display).
std::string suggested_callsign(const DeviceKeypair& kp) {
  std::uint64_t seed = 0;
  for (int i = 0; i < 8; ++i)
    seed = seed << 8 | kp.device_id().bytes()[static_cast<std::size_t>(i)];
  peat::SeededRng rng(seed);
  peat::security::CallsignGenerator generator(rng);
  auto cs = generator.generate();
  return cs ? cs->to_string() : std::string("-");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"peat-mesh-node: a peat mesh node"};
  std::string key_file = "./peat-node.key";
  app.add_option("--key-file", key_file, "Ed25519 device key (32-byte seed, mode 0600)")
      ->envname("PEAT_KEY_FILE")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  bool created = false;
  auto kp = load_or_create(key_file, created);
  if (!kp) {
    std::fprintf(stderr, "peat-mesh-node: %s\n", kp.error().to_string().c_str());
    return 1;
  }
  if (created)
    std::fprintf(stderr, "peat-mesh-node: created new device key %s\n", key_file.c_str());
  std::printf("device_id:  %s\n", kp->device_id().to_hex().c_str());
  std::printf("callsign:   %s\n", suggested_callsign(*kp).c_str());
  std::printf("public_key: %s\n", kp->public_key().to_hex().c_str());
  return 0;
}
