// KubernetesDiscovery: peers from the EndpointSlices of the mesh's headless Service.
//
// Mechanism (as the Rust crate): periodic LIST, no watch —
//   GET /apis/discovery.k8s.io/v1/namespaces/{ns}/endpointslices?labelSelector=app%3Dpeat-mesh
// at start, then every poll_interval, over HTTPS with the service-account bearer token and CA.
// Each poll is diffed against the previous one: new node → PeerFound, changed addresses or
// metadata → PeerUpdated, gone → PeerLost. A failed LIST keeps the previous state.
//
// Mapping per slice: port = the port named `port_name` ("iroh-quic"), else the first UDP port,
// else the first port, else 8080 (the Rust crate takes the first port); metadata = slice
// annotations starting with annotation_prefix, prefix stripped, `relay_url` moved to
// PeerInfo::relay_url. Per endpoint: node_id = targetRef.name, else the first address; addresses
// = every IP literal with the port. Deliberate fix: endpoints whose conditions.ready is false are
// skipped (absent = ready, as the Kubernetes API defines it); the Rust crate ignores readiness.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "peat/discovery/strategy.hpp"

namespace peat::discovery {

inline constexpr const char* kServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";

struct KubernetesDiscoveryConfig {
  std::optional<std::string> kube_namespace;  // none: the service-account namespace file
  std::string label_selector = "app=peat-mesh";
  std::string annotation_prefix = "peat.";
  Duration poll_interval = std::chrono::seconds(30);
  std::string port_name = "iroh-quic";
  // Where the in-cluster token, ca.crt and namespace files are (tests point it elsewhere).
  std::filesystem::path service_account_dir = kServiceAccountDir;
};

// Where and how to reach the API server.
struct ApiServerConfig {
  std::string host;  // IP literal or DNS name (also the TLS name checked against the certificate)
  std::uint16_t port = 443;
  std::string bearer_token;
  std::filesystem::path ca_file;
};

// In-cluster config: KUBERNETES_SERVICE_HOST / KUBERNETES_SERVICE_PORT and `token`, `ca.crt`
// under `sa_dir`. KUBERNETES_ERROR naming what is missing.
Result<ApiServerConfig> in_cluster_config(const std::filesystem::path& sa_dir = kServiceAccountDir);
// The configured namespace, else `sa_dir`/namespace (trimmed), else "default".
std::string resolve_namespace(const KubernetesDiscoveryConfig& config,
                              const std::filesystem::path& sa_dir = kServiceAccountDir);
// The LIST path, label selector percent-encoded ("app=peat-mesh" → "app%3Dpeat-mesh").
std::string endpointslice_list_path(std::string_view ns, std::string_view label_selector);

// Peers of one EndpointSlice object (JSON text). KUBERNETES_ERROR on malformed JSON.
Result<std::vector<PeerInfo>> extract_peers_from_endpoint_slice(
    std::string_view slice_json, const KubernetesDiscoveryConfig& config, Instant now);
// Peers of an EndpointSliceList; a later slice wins on a duplicate node_id.
Result<std::map<std::string, PeerInfo>> peers_from_endpoint_slice_list(
    std::string_view list_json, const KubernetesDiscoveryConfig& config, Instant now);
// Events that turn `previous` into `current` (relay_url changes alone do not count).
std::vector<DiscoveryEvent> diff_peer_maps(const std::map<std::string, PeerInfo>& previous,
                                           const std::map<std::string, PeerInfo>& current);

// The API, injectable for tests: GET `path`, the body of a 2xx response, else KUBERNETES_ERROR.
class KubernetesApi {
 public:
  virtual ~KubernetesApi() = default;
  virtual Result<std::string> get(const std::string& path) = 0;
};
// HTTPS (GnuTLS, CA-verified, bearer token) to an API server.
std::unique_ptr<KubernetesApi> make_https_api(ApiServerConfig server,
                                              Duration timeout = std::chrono::seconds(10));

class KubernetesDiscovery final : public DiscoveryStrategy {
 public:
  // api null: in-cluster config, created at start().
  explicit KubernetesDiscovery(KubernetesDiscoveryConfig config = {},
                               std::shared_ptr<KubernetesApi> api = nullptr,
                               const Clock& clock = system_clock());
  ~KubernetesDiscovery() override;

  // Polls once at once, then every poll_interval on a worker thread. Idempotent.
  // KUBERNETES_ERROR when no API client can be made.
  Status start() override;
  // Stops the worker (wakes it from its sleep) and waits for it.
  Status stop() override;
  std::vector<PeerInfo> discovered_peers() const override;

  // One LIST + diff, on the caller's thread (the worker uses it; tests call it directly).
  Status poll_once();
  const std::string& kube_namespace() const { return namespace_; }

 private:
  void run();

  KubernetesDiscoveryConfig config_;
  std::shared_ptr<KubernetesApi> api_;
  const Clock& clock_;
  std::string namespace_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, PeerInfo> peers_;
  std::mutex poll_mu_;
  bool running_ = false;
  std::thread worker_;
};

}  // namespace peat::discovery
