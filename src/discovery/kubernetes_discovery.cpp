#include "peat/discovery/kubernetes_discovery.hpp"

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "https_client.hpp"

namespace peat::discovery {
namespace {

using nlohmann::json;

std::optional<std::string> read_trimmed(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  std::string text = s.str();
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return std::string();
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

Error shape(const std::string& what) {
  return kubernetes_error("unexpected EndpointSlice: " + what);
}

// The slice's port: by name, else the first UDP port, else the first port, else 8080.
Result<std::uint16_t> slice_port(const json& slice, const std::string& port_name) {
  auto ports = slice.find("ports");
  if (ports == slice.end() || ports->is_null()) return std::uint16_t{8080};
  if (!ports->is_array()) return shape("ports is not an array");
  const json* by_name = nullptr;
  const json* udp = nullptr;
  const json* first = nullptr;
  for (const auto& p : *ports) {
    if (!p.is_object()) return shape("port is not an object");
    auto number = p.find("port");
    if (number == p.end() || number->is_null()) continue;
    if (!number->is_number_integer() || number->get<std::int64_t>() < 1 ||
        number->get<std::int64_t>() > 65535) {
      return shape("port number out of range");
    }
    if (!first) first = &p;
    auto name = p.find("name");
    if (!by_name && name != p.end() && name->is_string() && *name == port_name) by_name = &p;
    auto proto = p.find("protocol");
    if (!udp && proto != p.end() && proto->is_string() && *proto == "UDP") udp = &p;
  }
  const json* chosen = by_name ? by_name : udp ? udp : first;
  if (!chosen) return std::uint16_t{8080};
  return static_cast<std::uint16_t>(chosen->at("port").get<std::int64_t>());
}

Result<std::vector<PeerInfo>> peers_of(const json& slice, const KubernetesDiscoveryConfig& config,
                                       Instant now) {
  if (!slice.is_object()) return shape("not an object");
  std::map<std::string, std::string> metadata;
  std::optional<std::string> relay;
  if (auto meta = slice.find("metadata"); meta != slice.end() && meta->is_object()) {
    if (auto ann = meta->find("annotations"); ann != meta->end() && !ann->is_null()) {
      if (!ann->is_object()) return shape("annotations is not an object");
      for (const auto& [k, v] : ann->items()) {
        if (!v.is_string()) return shape("annotation value is not a string");
        if (k.rfind(config.annotation_prefix, 0) != 0) continue;
        std::string key = k.substr(config.annotation_prefix.size());
        if (key == "relay_url") {
          relay = v.get<std::string>();
        } else {
          metadata[key] = v.get<std::string>();
        }
      }
    }
  }
  auto port = slice_port(slice, config.port_name);
  if (!port) return port.error();

  std::vector<PeerInfo> out;
  auto endpoints = slice.find("endpoints");
  if (endpoints == slice.end() || endpoints->is_null()) return out;
  if (!endpoints->is_array()) return shape("endpoints is not an array");
  for (const auto& ep : *endpoints) {
    if (!ep.is_object()) return shape("endpoint is not an object");
    if (auto cond = ep.find("conditions"); cond != ep.end() && cond->is_object()) {
      auto ready = cond->find("ready");
      if (ready != cond->end() && ready->is_boolean() && !ready->get<bool>()) continue;
    }
    auto addrs = ep.find("addresses");
    if (addrs == ep.end() || addrs->is_null()) continue;
    if (!addrs->is_array()) return shape("addresses is not an array");
    if (addrs->empty()) continue;
    PeerInfo p;
    p.last_seen = now;
    p.metadata = metadata;
    p.relay_url = relay;
    for (const auto& a : *addrs) {
      if (!a.is_string()) return shape("address is not a string");
      const auto text = a.get<std::string>();
      if (p.node_id.empty()) p.node_id = text;
      if (is_ip_literal(text)) p.addresses.push_back({text, *port});
    }
    if (auto ref = ep.find("targetRef"); ref != ep.end() && ref->is_object()) {
      auto name = ref->find("name");
      if (name != ref->end() && name->is_string() && !name->get<std::string>().empty()) {
        p.node_id = name->get<std::string>();
      }
    }
    if (p.addresses.empty()) continue;
    out.push_back(std::move(p));
  }
  return out;
}

class HttpsApi final : public KubernetesApi {
 public:
  HttpsApi(ApiServerConfig server, Duration timeout)
      : server_(std::move(server)), timeout_(timeout) {}
  Result<std::string> get(const std::string& path) override {
    http::GetRequest req{server_.host,         server_.port,    path,
                         server_.bearer_token, server_.ca_file, timeout_};
    auto resp = http::https_get(req);
    if (!resp) return kubernetes_error(resp.error().message);
    if (resp->status < 200 || resp->status > 299) {
      return kubernetes_error("GET " + path + " returned HTTP " + std::to_string(resp->status) +
                              ": " + resp->body.substr(0, 200));
    }
    return std::move(resp->body);
  }

 private:
  ApiServerConfig server_;
  Duration timeout_;
};

}  // namespace

Result<ApiServerConfig> in_cluster_config(const std::filesystem::path& sa_dir) {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  if (!host || !*host)
    return kubernetes_error("KUBERNETES_SERVICE_HOST is not set (not in a pod?)");
  ApiServerConfig c;
  c.host = host;
  if (const char* port = std::getenv("KUBERNETES_SERVICE_PORT"); port && *port) {
    char* end = nullptr;
    const long v = std::strtol(port, &end, 10);
    if (*end != '\0' || v < 1 || v > 65535) {
      return kubernetes_error(std::string("bad KUBERNETES_SERVICE_PORT '") + port + "'");
    }
    c.port = static_cast<std::uint16_t>(v);
  }
  auto token = read_trimmed(sa_dir / "token");
  if (!token) return kubernetes_error("cannot read " + (sa_dir / "token").string());
  c.bearer_token = std::move(*token);
  c.ca_file = sa_dir / "ca.crt";
  if (!std::filesystem::exists(c.ca_file)) {
    return kubernetes_error("cannot read " + c.ca_file.string());
  }
  return c;
}

std::string resolve_namespace(const KubernetesDiscoveryConfig& config,
                              const std::filesystem::path& sa_dir) {
  if (config.kube_namespace) return *config.kube_namespace;
  auto ns = read_trimmed(sa_dir / "namespace");
  return ns && !ns->empty() ? *ns : "default";
}

std::string endpointslice_list_path(std::string_view ns, std::string_view label_selector) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  auto encode = [](std::string_view in) {
    std::string out;
    for (unsigned char c : in) {
      const bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                              (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
                              c == '~';
      if (unreserved) {
        out.push_back(static_cast<char>(c));
      } else {
        out += {'%', kHex[c >> 4], kHex[c & 15]};
      }
    }
    return out;
  };
  return "/apis/discovery.k8s.io/v1/namespaces/" + encode(ns) +
         "/endpointslices?labelSelector=" + encode(label_selector);
}

Result<std::vector<PeerInfo>> extract_peers_from_endpoint_slice(
    std::string_view slice_json, const KubernetesDiscoveryConfig& config, Instant now) {
  auto j = json::parse(slice_json, nullptr, false);
  if (j.is_discarded()) return kubernetes_error("EndpointSlice is not valid JSON");
  return peers_of(j, config, now);
}

Result<std::map<std::string, PeerInfo>> peers_from_endpoint_slice_list(
    std::string_view list_json, const KubernetesDiscoveryConfig& config, Instant now) {
  auto j = json::parse(list_json, nullptr, false);
  if (j.is_discarded()) return kubernetes_error("EndpointSliceList is not valid JSON");
  if (!j.is_object()) return kubernetes_error("EndpointSliceList is not an object");
  std::map<std::string, PeerInfo> out;
  auto items = j.find("items");
  if (items == j.end()) return kubernetes_error("EndpointSliceList has no items");
  if (items->is_null()) return out;
  if (!items->is_array()) return kubernetes_error("EndpointSliceList items is not an array");
  for (const auto& slice : *items) {
    auto peers = peers_of(slice, config, now);
    if (!peers) return peers.error();
    for (auto& p : *peers) out[p.node_id] = std::move(p);
  }
  return out;
}

std::vector<DiscoveryEvent> diff_peer_maps(const std::map<std::string, PeerInfo>& previous,
                                           const std::map<std::string, PeerInfo>& current) {
  std::vector<DiscoveryEvent> out;
  for (const auto& [id, p] : current) {
    auto old = previous.find(id);
    if (old == previous.end()) {
      out.emplace_back(PeerFound{p});
    } else if (old->second.addresses != p.addresses || old->second.metadata != p.metadata) {
      out.emplace_back(PeerUpdated{p});
    }
  }
  for (const auto& [id, p] : previous) {
    if (!current.count(id)) out.emplace_back(PeerLost{id});
  }
  return out;
}

std::unique_ptr<KubernetesApi> make_https_api(ApiServerConfig server, Duration timeout) {
  return std::make_unique<HttpsApi>(std::move(server), timeout);
}

KubernetesDiscovery::KubernetesDiscovery(KubernetesDiscoveryConfig config,
                                         std::shared_ptr<KubernetesApi> api, const Clock& clock)
    : config_(std::move(config)),
      api_(std::move(api)),
      clock_(clock),
      namespace_(resolve_namespace(config_, config_.service_account_dir)) {}

KubernetesDiscovery::~KubernetesDiscovery() {
  (void)stop();
}

Status KubernetesDiscovery::start() {
  {
    std::lock_guard lock(mu_);
    if (running_) return {};
  }
  if (!api_) {
    auto server = in_cluster_config(config_.service_account_dir);
    if (!server) return server.error();
    api_ = make_https_api(std::move(*server));
  }
  std::lock_guard lock(mu_);
  running_ = true;
  worker_ = std::thread([this] { run(); });
  return {};
}

Status KubernetesDiscovery::stop() {
  {
    std::lock_guard lock(mu_);
    if (!running_) return {};
    running_ = false;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
  return {};
}

void KubernetesDiscovery::run() {
  std::unique_lock lock(mu_);
  while (running_) {
    lock.unlock();
    (void)poll_once();  // a failed LIST keeps the previous state; the next poll retries
    lock.lock();
    cv_.wait_for(lock, config_.poll_interval, [this] { return !running_; });
  }
}

Status KubernetesDiscovery::poll_once() {
  if (!api_) return kubernetes_error("no API client (call start() or pass one)");
  std::lock_guard poll_lock(poll_mu_);
  auto body = api_->get(endpointslice_list_path(namespace_, config_.label_selector));
  if (!body) return body.error();
  auto current = peers_from_endpoint_slice_list(*body, config_, clock_.now());
  if (!current) return current.error();
  std::vector<DiscoveryEvent> events;
  {
    std::lock_guard lock(mu_);
    events = diff_peer_maps(peers_, *current);
    peers_ = std::move(*current);
  }
  for (auto& e : events) emit(std::move(e));
  return {};
}

std::vector<PeerInfo> KubernetesDiscovery::discovered_peers() const {
  std::lock_guard lock(mu_);
  std::vector<PeerInfo> out;
  for (const auto& [id, p] : peers_) out.push_back(p);
  return out;
}

}  // namespace peat::discovery
