// peat-mesh-node: the mesh node users run. Configuration comes from the Rust binary's
// environment variables (same names, defaults and key derivations), command-line flags
// override them. Prints the node identity, starts the mesh (store, QUIC with the formation
// gate, discovery, broker) and runs until SIGINT/SIGTERM, then stops gracefully and exits 0.
// Invalid configuration: one line on stderr, exit status 2.
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "peat/common/bytes.hpp"
#include "peat/common/random.hpp"
#include "peat/mesh/peat_mesh.hpp"
#include "peat/security/callsign.hpp"
#include "peat/security/formation_key.hpp"
#include "peat/security/node_identity.hpp"

namespace {

// One JSON object per line on stderr: {"ts","level","logger","msg"}.
class JsonSink final : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch());
    nlohmann::json line = {{"ts_ms", ms.count()},
                           {"level", std::string(spdlog::level::to_string_view(msg.level).data(),
                                                 spdlog::level::to_string_view(msg.level).size())},
                           {"msg", std::string(msg.payload.data(), msg.payload.size())}};
    auto text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    std::fprintf(stderr, "%s\n", text.c_str());
  }
  void flush_() override { std::fflush(stderr); }
};

class StderrSink final : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t out;
    formatter_->format(msg, out);
    std::fwrite(out.data(), 1, out.size(), stderr);
  }
  void flush_() override { std::fflush(stderr); }
};

[[noreturn]] void config_error(const std::string& message) {
  std::fprintf(stderr, "peat-mesh-node: invalid configuration: %s\n", message.c_str());
  std::exit(2);
}

// RUST_LOG-style filter → one spdlog level: the first item without '=' ("info,peat_mesh=debug"
// → info); unknown words are a configuration error.
spdlog::level::level_enum parse_level(const std::string& filter) {
  std::string first = filter.substr(0, filter.find(','));
  if (first.find('=') != std::string::npos) first = "info";
  if (first == "trace") return spdlog::level::trace;
  if (first == "debug") return spdlog::level::debug;
  if (first == "info") return spdlog::level::info;
  if (first == "warn") return spdlog::level::warn;
  if (first == "error") return spdlog::level::err;
  if (first == "off") return spdlog::level::off;
  config_error("log level '" + first + "' (expected trace, debug, info, warn, error or off)");
}

std::string callsign_for(const std::string& device_id_hex) {
  std::uint64_t seed = 0;
  for (std::size_t i = 0; i + 1 < device_id_hex.size() && i < 16; ++i)
    seed =
        seed << 4 | static_cast<std::uint64_t>(std::stoi(device_id_hex.substr(i, 1), nullptr, 16));
  peat::SeededRng rng(seed);
  peat::security::CallsignGenerator generator(rng);
  auto cs = generator.generate();
  return cs ? cs->to_string() : std::string("-");
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    std::string item = text.substr(start, end - start);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.back()))) item.pop_back();
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.front())))
      item.erase(item.begin());
    if (!item.empty()) out.push_back(item);
    start = end + 1;
  }
  return out;
}

// "0", "500000", "64K", "512M", "2G" (powers of 1024). Exits with one line on anything else.
std::uint64_t parse_size(const std::string& name, const std::string& text) {
  std::size_t used = 0;
  unsigned long long value = 0;
  try {
    value = std::stoull(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  std::uint64_t unit = 1;
  if (used != 0 && used + 1 == text.size()) {
    switch (std::toupper(static_cast<unsigned char>(text.back()))) {
      case 'K':
        unit = 1ull << 10;
        break;
      case 'M':
        unit = 1ull << 20;
        break;
      case 'G':
        unit = 1ull << 30;
        break;
      default:
        used = 0;
    }
    if (used != 0) ++used;
  }
  if (used == 0 || used != text.size() || text.front() == '-' || value > (~0ull / unit))
    config_error(name + " '" + text + "' (expected bytes, optionally with K, M or G)");
  return value * unit;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "peat-mesh-node: a peat mesh node (document store, QUIC mesh, discovery, HTTP broker).\n"
      "Every option can also be set by the environment variable shown; flags win."};
  std::string secret;
  std::string hostname = "peat-mesh-0";
  std::string discovery = "kubernetes";
  std::string static_peers;
  std::uint16_t broker_port = 8081;
  std::string broker_bind = "0.0.0.0";
  std::string broker_token;
  std::uint16_t quic_port = 11204;
  std::string bind_host = "0.0.0.0";
  std::string relay_urls;
  std::string data_dir = "/data";
  std::string ttl_preset = "default";
  std::string authority_key;
  std::string require_certs = "false";
  std::string enrollment_tokens;
  int enrollment_port = -1;  // -1: the QUIC port
  std::string certificate_file;
  std::string mesh_id = "peat";
  std::string lite_port = "5555";
  std::string blob_profile = "tactical";
  std::string storage_max = "0";
  std::string storage_lifecycle = "false";
  std::string parent;
  std::string log_filter = "info";
  std::string log_format = "text";

  app.add_option("--formation-secret", secret, "Base64 formation secret (required)")
      ->envname("PEAT_FORMATION_SECRET");
  app.add_option("--hostname", hostname, "Node id; key-derivation context and mDNS name")
      ->envname("HOSTNAME")
      ->capture_default_str();
  app.add_option("--discovery", discovery, "kubernetes|k8s|mdns|static|none")
      ->envname("PEAT_DISCOVERY")
      ->capture_default_str();
  app.add_option("--static-peers", static_peers, "TOML peers file for --discovery static")
      ->envname("PEAT_STATIC_PEERS");
  app.add_option("--broker-port", broker_port, "Broker HTTP port (0: any free port)")
      ->envname("PEAT_BROKER_PORT")
      ->capture_default_str();
  app.add_option("--broker-bind", broker_bind, "Broker bind address")
      ->envname("PEAT_BROKER_BIND")
      ->capture_default_str();
  app.add_option("--broker-token", broker_token, "Bearer token required by the broker API")
      ->envname("PEAT_BROKER_TOKEN");
  app.add_option("--quic-port", quic_port, "QUIC UDP port (also advertised via mDNS)")
      ->envname("PEAT_IROH_BIND_PORT")
      ->capture_default_str();
  app.add_option("--bind-host", bind_host, "QUIC bind address")
      ->envname("PEAT_BIND_HOST")
      ->capture_default_str();
  app.add_option("--relay-urls", relay_urls, "Comma list of relay URLs (accepted, not used)")
      ->envname("PEAT_IROH_RELAY_URLS");
  app.add_option("--data-dir", data_dir, "Data folder; the store is <dir>/automerge")
      ->envname("PEAT_DATA_DIR")
      ->capture_default_str();
  app.add_option("--ttl-preset", ttl_preset, "default|tactical|long_duration|offline_node")
      ->envname("PEAT_TTL_PRESET")
      ->capture_default_str();
  app.add_option("--authority-key", authority_key, "Authority public key, 64 hex characters")
      ->envname("PEAT_AUTHORITY_KEY");
  app.add_option("--require-certificates", require_certs, "true|1 to reject uncertified peers")
      ->envname("PEAT_REQUIRE_CERTIFICATES")
      ->capture_default_str();
  app.add_option("--enrollment-tokens", enrollment_tokens, "tok1=tier,tok2=tier")
      ->envname("PEAT_ENROLLMENT_TOKENS");
  app.add_option("--enrollment-port", enrollment_port,
                 "separate UDP port for the enrollment endpoint (default: the QUIC port; 0: any "
                 "free port)")
      ->envname("PEAT_ENROLLMENT_PORT")
      ->check(CLI::Range(-1, 65535));
  app.add_option("--certificate-file", certificate_file,
                 "This node's certificate (from peat-mesh enroll), presented to peers")
      ->envname("PEAT_CERTIFICATE_FILE");
  app.add_option("--mesh-id", mesh_id, "Mesh id of the certificates issued and accepted")
      ->envname("PEAT_MESH_ID")
      ->capture_default_str();
  app.add_option("--lite-port", lite_port,
                 "Peat-Lite UDP port for devices and OTA (0: any free port, off: no bridge)")
      ->envname("PEAT_LITE_PORT")
      ->capture_default_str();
  app.add_option("--blob-profile", blob_profile, "Blob transfer profile: datacenter|tactical|edge")
      ->envname("PEAT_BLOB_PROFILE")
      ->capture_default_str();
  app.add_option("--storage-max-bytes", storage_max,
                 "QoS storage budget of the document store, e.g. 512M (0: no eviction)")
      ->envname("PEAT_STORAGE_MAX_BYTES")
      ->capture_default_str();
  app.add_option("--storage-lifecycle", storage_lifecycle,
                 "true|1 to also apply the QoS lifecycle (TTL expiry, soft delete) per class")
      ->envname("PEAT_STORAGE_LIFECYCLE")
      ->capture_default_str();
  app.add_option("--parent", parent,
                 "Node id of this node's parent in the hierarchy (empty: root or flat mesh)")
      ->envname("PEAT_PARENT");
  app.add_option("--log-level", log_filter, "trace|debug|info|warn|error (RUST_LOG style)")
      ->envname("RUST_LOG")
      ->capture_default_str();
  app.add_option("--log-format", log_format, "text|json")
      ->envname("PEAT_LOG_FORMAT")
      ->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    config_error(e.what());
  }

  // ---- logging ------------------------------------------------------------------------------
  auto level = parse_level(log_filter);
  spdlog::sink_ptr sink;
  if (log_format == "json") {
    sink = std::make_shared<JsonSink>();
  } else if (log_format == "text") {
    sink = std::make_shared<StderrSink>();
  } else {
    config_error("log format '" + log_format + "' (expected text or json)");
  }
  auto logger = std::make_shared<spdlog::logger>("peat", sink);
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  logger->set_level(level);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);

  // ---- configuration ------------------------------------------------------------------------
  if (secret.empty()) config_error("PEAT_FORMATION_SECRET is required (base64 formation secret)");
  auto formation = peat::security::FormationKey::from_base64(
      std::string(peat::security::kNodeFormationId), secret);
  if (!formation) config_error("PEAT_FORMATION_SECRET: " + formation.error().message);
  auto mode = peat::mesh::parse_discovery_mode(discovery);
  if (!mode)
    config_error(mode.error().message.substr(std::string("invalid configuration: ").size()));
  if (!authority_key.empty()) {
    auto key = peat::from_hex(authority_key);
    if (!key || key->size() != 32)
      config_error("PEAT_AUTHORITY_KEY must be 64 hex characters (32 bytes)");
  }
  bool require_certificates = require_certs == "true" || require_certs == "1";
  std::optional<std::uint16_t> lite;
  if (lite_port != "off") {
    unsigned long value = 0;
    std::size_t used = 0;
    try {
      value = std::stoul(lite_port, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != lite_port.size() || value > 65535)
      config_error("PEAT_LITE_PORT '" + lite_port + "' (expected a port number or off)");
    lite = static_cast<std::uint16_t>(value);
  }

  peat::mesh::MeshConfig config;
  config.node_id = hostname;
  config.formation_secret = secret;
  config.data_dir = data_dir;
  config.ttl_preset = ttl_preset;
  config.quic_bind_host = bind_host;
  config.quic_port = quic_port;
  config.discovery_mode = *mode;
  if (!static_peers.empty()) config.static_peers_file = static_peers;
  config.broker_port = broker_port;
  config.broker_bind_host = broker_bind;
  if (!broker_token.empty()) config.broker_token = broker_token;
  config.iroh.relay_urls = split_list(relay_urls);
  config.require_certificates = require_certificates;
  if (!authority_key.empty()) config.authority_key = authority_key;
  config.enrollment_tokens = enrollment_tokens;
  if (enrollment_port >= 0) config.enrollment_port = static_cast<std::uint16_t>(enrollment_port);
  if (!certificate_file.empty()) config.certificate_file = certificate_file;
  config.mesh_id = mesh_id;
  config.lite_port = lite;
  config.lite_bind_host = bind_host;
  config.blob_profile = blob_profile;
  config.storage_max_bytes = parse_size("PEAT_STORAGE_MAX_BYTES", storage_max);
  config.storage_lifecycle = storage_lifecycle == "true" || storage_lifecycle == "1";
  if (!parent.empty()) config.parent = parent;

  auto built = peat::mesh::PeatMeshBuilder().with_config(config).build();
  if (!built) {
    const auto& m = built.error().message;
    const std::string prefix = "invalid configuration: ";
    config_error(m.rfind(prefix, 0) == 0 ? m.substr(prefix.size()) : m);
  }
  auto& mesh = **built;

  auto seed = *peat::from_base64(secret.substr(0, secret.find_last_not_of(" \t\r\n") + 1)
                                     .substr(secret.find_first_not_of(" \t\r\n")));
  auto device = peat::security::node_device_keypair(seed, hostname);
  std::printf("node_id:     %s\n", hostname.c_str());
  std::printf("device_id:   %s\n", mesh.device_id().c_str());
  std::printf("callsign:    %s\n", callsign_for(mesh.device_id()).c_str());
  std::printf("public_key:  %s\n", device.public_key().to_hex().c_str());
  std::printf("endpoint_id: %s\n", mesh.endpoint_id().c_str());
  std::fflush(stdout);

  spdlog::info(
      "Starting peat-mesh-node hostname={} discovery={} broker_port={} quic_port={} data_dir={} "
      "parent={}",
      hostname, peat::mesh::to_string(*mode), broker_port, quic_port, data_dir,
      parent.empty() ? "-" : parent);
  if (!config.iroh.relay_urls.empty())
    spdlog::warn("PEAT_IROH_RELAY_URLS given: this port has no relays; peers must be reachable");
  if (authority_key.empty() && require_certificates)
    spdlog::warn(
        "PEAT_REQUIRE_CERTIFICATES has no effect without PEAT_AUTHORITY_KEY: peers are admitted "
        "by the formation gate only");
  if (!lite) spdlog::info("Peat-Lite bridge disabled (PEAT_LITE_PORT=off): OTA unavailable");

  // Signals: block them in every thread (the network thread inherits the mask), wait here.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto started = mesh.start();
  if (!started) {
    spdlog::error("peat-mesh-node failed to start: {}", started.error().to_string());
    return 1;
  }
  auto status = mesh.status();
  spdlog::info(
      "Mesh started node_id={} device_id={} quic_port={} broker=http://{}:{}/api/v1 sync={}",
      hostname, mesh.device_id(), status.quic_port, broker_bind, status.broker_port,
      status.sync_enabled ? "on" : "off");

  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("received {}, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  auto stopped = mesh.stop();
  if (!stopped) spdlog::warn("stop: {}", stopped.error().to_string());
  spdlog::info("peat-mesh-node stopped");
  return 0;
}
