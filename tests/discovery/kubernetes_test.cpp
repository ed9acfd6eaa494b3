#include "peat/discovery/kubernetes_discovery.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>

#include "discovery/fake_clock.hpp"
#include "discovery/http_response.hpp"

namespace peat::discovery {
namespace {

using testing::FakeClock;

const Instant kNow = Instant{} + std::chrono::hours(1);

// A slice as the EndpointSlice controller writes it for the chart's headless Service.
std::string slice(const std::string& endpoints, const std::string& extra = "") {
  return R"({"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","addressType":"IPv4",)"
         R"("metadata":{"name":"peat-mesh-abc","namespace":"mesh","labels":{"app":"peat-mesh"},)"
         R"("annotations":{"peat.role":"squad","peat.relay_url":"https://relay:3479","other":"x"}},)"
         R"("ports":[{"name":"broker","port":8081,"protocol":"TCP"},)"
         R"({"name":"iroh-quic","port":11204,"protocol":"UDP"}],)" +
         extra + R"("endpoints":[)" + endpoints + "]}";
}

std::string endpoint(const std::string& pod, const std::string& ip, const char* ready = "true") {
  return R"({"addresses":[")" + ip + R"("],"conditions":{"ready":)" + ready +
         R"(},"targetRef":{"kind":"Pod","name":")" + pod + R"("}})";
}

std::string list(const std::vector<std::string>& slices) {
  std::string items;
  for (const auto& s : slices) items += (items.empty() ? "" : ",") + s;
  return R"({"kind":"EndpointSliceList","apiVersion":"discovery.k8s.io/v1","items":[)" + items +
         "]}";
}

TEST(KubernetesMapping, EndpointsBecomePeers) {
  KubernetesDiscoveryConfig config;
  auto peers = extract_peers_from_endpoint_slice(
      slice(endpoint("peat-mesh-0", "10.1.0.5") + "," + endpoint("peat-mesh-1", "10.1.0.6")),
      config, kNow);
  ASSERT_TRUE(peers) << peers.error().to_string();
  ASSERT_EQ(peers->size(), 2u);
  const auto& p = (*peers)[0];
  EXPECT_EQ(p.node_id, "peat-mesh-0");
  ASSERT_EQ(p.addresses.size(), 1u);
  EXPECT_EQ(p.addresses[0], (SocketAddress{"10.1.0.5", 11204}));  // the iroh-quic port, by name
  EXPECT_EQ(p.relay_url, "https://relay:3479");                   // moved out of metadata
  EXPECT_EQ(p.metadata, (std::map<std::string, std::string>{{"role", "squad"}}));
  EXPECT_EQ(p.last_seen, kNow);
}

TEST(KubernetesMapping, ReadinessAndFallbacks) {
  KubernetesDiscoveryConfig config;
  const std::string eps =
      endpoint("ready", "10.1.0.1") + "," + endpoint("not-ready", "10.1.0.2", "false") + "," +
      R"({"addresses":["10.1.0.3"]})" + "," +  // no targetRef, no conditions
      R"({"addresses":[]})" + "," +            // no address: skipped
      R"({"addresses":["not-an-ip"],"targetRef":{"name":"x"}})" + "," +  // nothing usable
      R"({"addresses":["fd00::7"],"conditions":{"ready":null},"targetRef":{"name":"v6"}})";
  auto peers = extract_peers_from_endpoint_slice(slice(eps), config, kNow);
  ASSERT_TRUE(peers);
  std::vector<std::string> ids;
  for (const auto& p : *peers) ids.push_back(p.node_id);
  EXPECT_EQ(ids, (std::vector<std::string>{"ready", "10.1.0.3", "v6"}));
}

TEST(KubernetesMapping, PortSelection) {
  KubernetesDiscoveryConfig config;
  auto port_of = [&](const std::string& ports) {
    auto s = R"({"metadata":{},)" + ports + R"("endpoints":[{"addresses":["10.0.0.1"]}]})";
    auto peers = extract_peers_from_endpoint_slice(s, config, kNow);
    EXPECT_TRUE(peers) << s;
    return peers && !peers->empty() ? (*peers)[0].addresses[0].port : 0;
  };
  EXPECT_EQ(port_of(R"("ports":[{"port":1,"protocol":"TCP"},{"port":2,"protocol":"UDP"}],)"), 2);
  EXPECT_EQ(port_of(R"("ports":[{"port":1,"protocol":"TCP"},{"port":3}],)"), 1);
  EXPECT_EQ(port_of(R"("ports":[],)"), 8080);
  EXPECT_EQ(port_of(""), 8080);
  EXPECT_EQ(port_of(R"("ports":[{"name":"x"}],)"), 8080);
}

TEST(KubernetesMapping, MalformedSlicesAreErrors) {
  KubernetesDiscoveryConfig config;
  for (const std::string& bad :
       {std::string("{"), std::string("[]"), std::string(R"({"endpoints":5})"),
        std::string(R"({"endpoints":[5]})"), std::string(R"({"endpoints":[{"addresses":"x"}]})"),
        std::string(R"({"endpoints":[{"addresses":[5]}]})"),
        std::string(R"({"ports":{},"endpoints":[]})"),
        std::string(R"({"ports":[{"port":70000}],"endpoints":[]})"),
        std::string(R"({"ports":["x"],"endpoints":[]})"),
        std::string(R"({"metadata":{"annotations":[]},"endpoints":[]})"),
        std::string(R"({"metadata":{"annotations":{"peat.a":1}},"endpoints":[]})")}) {
    auto r = extract_peers_from_endpoint_slice(bad, config, kNow);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, "KUBERNETES_ERROR") << bad;
  }
  for (const std::string& bad : {std::string("nope"), std::string("[]"), std::string("{}"),
                                 std::string(R"({"items":{}})"), std::string(R"({"items":[5]})")}) {
    EXPECT_FALSE(peers_from_endpoint_slice_list(bad, config, kNow)) << bad;
  }
  auto empty = peers_from_endpoint_slice_list(R"({"items":null})", config, kNow);
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
}

TEST(KubernetesMapping, LaterSliceWinsOnDuplicateNodeId) {
  KubernetesDiscoveryConfig config;
  auto peers = peers_from_endpoint_slice_list(
      list({slice(endpoint("p", "10.0.0.1")), slice(endpoint("p", "10.0.0.2"))}), config, kNow);
  ASSERT_TRUE(peers);
  ASSERT_EQ(peers->size(), 1u);
  EXPECT_EQ(peers->at("p").addresses[0].host, "10.0.0.2");
}

TEST(KubernetesMapping, DiffIgnoresRelayOnlyChanges) {
  PeerInfo a;
  a.node_id = "a";
  a.addresses = {{"10.0.0.1", 1}};
  PeerInfo b = a;
  b.node_id = "b";
  std::map<std::string, PeerInfo> prev{{"a", a}, {"b", b}};
  auto cur = prev;
  cur["a"].relay_url = "https://r";
  EXPECT_TRUE(diff_peer_maps(prev, cur).empty());
  cur["a"].metadata["k"] = "v";
  cur.erase("b");
  PeerInfo c = a;
  c.node_id = "c";
  cur["c"] = c;
  auto ev = diff_peer_maps(prev, cur);
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_TRUE(std::holds_alternative<PeerUpdated>(ev[0]));
  EXPECT_TRUE(std::holds_alternative<PeerFound>(ev[1]));
  EXPECT_EQ(std::get<PeerLost>(ev[2]).node_id, "b");
}

TEST(KubernetesConfig, ListPathEncodesSelector) {
  EXPECT_EQ(
      endpointslice_list_path("mesh", "app=peat-mesh"),
      "/apis/discovery.k8s.io/v1/namespaces/mesh/endpointslices?labelSelector=app%3Dpeat-mesh");
  EXPECT_EQ(endpointslice_list_path("default", "app in (a,b)"),
            "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?labelSelector="
            "app%20in%20%28a%2Cb%29");
}

class ServiceAccountDir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) / "peat_k8s_sa";
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    std::filesystem::remove_all(dir_);
    unsetenv("KUBERNETES_SERVICE_HOST");
    unsetenv("KUBERNETES_SERVICE_PORT");
  }
  void write(const char* name, const char* text) { std::ofstream(dir_ / name) << text; }
  std::filesystem::path dir_;
};

TEST_F(ServiceAccountDir, InClusterConfigReadsEnvAndFiles) {
  auto missing = in_cluster_config(dir_);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("KUBERNETES_SERVICE_HOST"), std::string::npos);
  setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
  setenv("KUBERNETES_SERVICE_PORT", "6443", 1);
  auto no_token = in_cluster_config(dir_);
  ASSERT_FALSE(no_token);
  EXPECT_NE(no_token.error().message.find("token"), std::string::npos);
  write("token", "secret-token\n");
  auto no_ca = in_cluster_config(dir_);
  ASSERT_FALSE(no_ca);
  EXPECT_NE(no_ca.error().message.find("ca.crt"), std::string::npos);
  write("ca.crt", "pem");
  auto ok = in_cluster_config(dir_);
  ASSERT_TRUE(ok) << ok.error().to_string();
  EXPECT_EQ(ok->host, "10.96.0.1");
  EXPECT_EQ(ok->port, 6443);
  EXPECT_EQ(ok->bearer_token, "secret-token");
  EXPECT_EQ(ok->ca_file, dir_ / "ca.crt");
  setenv("KUBERNETES_SERVICE_PORT", "70000", 1);
  EXPECT_FALSE(in_cluster_config(dir_));
}

TEST_F(ServiceAccountDir, NamespaceResolution) {
  KubernetesDiscoveryConfig config;
  EXPECT_EQ(resolve_namespace(config, dir_), "default");
  write("namespace", "  mesh-ns \n");
  EXPECT_EQ(resolve_namespace(config, dir_), "mesh-ns");
  config.kube_namespace = "explicit";
  EXPECT_EQ(resolve_namespace(config, dir_), "explicit");
}

// A scripted API: each get() returns the next reply.
class ScriptedApi final : public KubernetesApi {
 public:
  Result<std::string> get(const std::string& path) override {
    paths.push_back(path);
    if (replies.empty()) return kubernetes_error("no reply scripted");
    auto r = replies.front();
    replies.pop_front();
    return r;
  }
  std::deque<Result<std::string>> replies;
  std::vector<std::string> paths;
};

TEST(KubernetesDiscovery, PodChurnBetweenPolls) {
  FakeClock clock;
  auto api = std::make_shared<ScriptedApi>();
  KubernetesDiscoveryConfig config;
  config.kube_namespace = "mesh";
  KubernetesDiscovery d(config, api, clock);
  auto stream = *d.event_stream();

  api->replies.push_back(
      list({slice(endpoint("p0", "10.0.0.1") + "," + endpoint("p1", "10.0.0.2"))}));
  api->replies.push_back(
      list({slice(endpoint("p0", "10.0.0.1") + "," + endpoint("p1", "10.0.0.2", "false") + "," +
                  endpoint("p2", "10.0.0.3"))}));
  api->replies.push_back(kubernetes_error("503"));
  api->replies.push_back(std::string("not json"));
  api->replies.push_back(list({slice(endpoint("p0", "10.0.0.9"))}));

  ASSERT_TRUE(d.poll_once());
  auto ev = stream->drain();
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_TRUE(std::holds_alternative<PeerFound>(ev[0]));
  EXPECT_TRUE(std::holds_alternative<PeerFound>(ev[1]));
  EXPECT_EQ(
      api->paths[0],
      "/apis/discovery.k8s.io/v1/namespaces/mesh/endpointslices?labelSelector=app%3Dpeat-mesh");

  ASSERT_TRUE(d.poll_once());  // p1 not ready, p2 added
  ev = stream->drain();
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(std::get<PeerFound>(ev[0]).peer.node_id, "p2");
  EXPECT_EQ(std::get<PeerLost>(ev[1]).node_id, "p1");

  EXPECT_FALSE(d.poll_once());  // API error: state kept, no events
  EXPECT_FALSE(d.poll_once());  // bad body: same
  EXPECT_TRUE(stream->drain().empty());
  EXPECT_EQ(d.discovered_peers().size(), 2u);

  ASSERT_TRUE(d.poll_once());  // p0 moved, p2 gone
  ev = stream->drain();
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(std::get<PeerUpdated>(ev[0]).peer.addresses[0].host, "10.0.0.9");
  EXPECT_EQ(std::get<PeerLost>(ev[1]).node_id, "p2");
}

TEST(KubernetesDiscovery, StartPollsAtOnceOnAWorkerAndStopJoins) {
  auto api = std::make_shared<ScriptedApi>();
  api->replies.push_back(list({slice(endpoint("p0", "10.0.0.1"))}));
  KubernetesDiscoveryConfig config;
  config.kube_namespace = "mesh";
  config.poll_interval = std::chrono::hours(1);
  KubernetesDiscovery d(config, api);
  auto stream = *d.event_stream();
  std::mutex mu;
  std::condition_variable cv;
  stream->set_notify([&] { cv.notify_all(); });
  ASSERT_TRUE(d.start());
  ASSERT_TRUE(d.start());  // idempotent
  {
    std::unique_lock lock(mu);
    // Hang guard only; the first poll runs at once.
    cv.wait_for(lock, std::chrono::seconds(30), [&] { return stream->size() > 0; });
  }
  ASSERT_TRUE(d.stop());  // wakes the worker out of its one-hour sleep
  EXPECT_EQ(stream->size(), 1u);
  EXPECT_EQ(api->paths.size(), 1u);
}

TEST(KubernetesDiscovery, StartOutsideAClusterFails) {
  unsetenv("KUBERNETES_SERVICE_HOST");
  KubernetesDiscovery d;
  auto r = d.start();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "KUBERNETES_ERROR");
  EXPECT_FALSE(d.poll_once());
}

// --- the HTTP response parser behind the HTTPS client ---

TEST(HttpResponse, ContentLengthChunkedAndToEnd) {
  auto r =
      http::parse_response("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhelloIGNORED");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello");
  EXPECT_EQ(r->headers.at("x-a"), "b");
  auto c = http::parse_response(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: "
      "chunked\r\n\r\n5;ext=1\r\nhello\r\n1\r\n!\r\n0\r\n\r\n");
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_EQ(c->body, "hello!");
  auto e = http::parse_response("HTTP/1.0 404 Not Found\r\n\r\nrest");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->status, 404);
  EXPECT_EQ(e->body, "rest");
}

TEST(HttpResponse, BadResponsesAreErrors) {
  for (const char* bad : {
           "",
           "HTTP/1.1 200 OK\r\n",
           "SMTP 220 hi\r\n\r\n",
           "HTTP/1.1 2x0 OK\r\n\r\n",
           "HTTP/1.1 099 Low\r\n\r\n",
           "HTTP/1.1 200 OK\r\nno-colon\r\n\r\n",
           "HTTP/1.1 200 OK\r\n: empty-name\r\n\r\n",
           "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
           "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
           "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhi\r\n",
           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhiXX0\r\n\r\n",
           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n",
           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\n",
       }) {
    auto r = http::parse_response(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, "HTTP_BAD_RESPONSE") << bad;
  }
}

}  // namespace
}  // namespace peat::discovery
