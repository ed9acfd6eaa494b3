// KubernetesDiscovery over real HTTPS against fake_apiserver.py on 127.0.0.1: in-cluster config
// (env + service-account files), CA verification, bearer token, pod churn between polls.
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "peat/discovery/kubernetes_discovery.hpp"

extern char** environ;

namespace peat::discovery {
namespace {

namespace fs = std::filesystem;

constexpr const char* kToken = "test-token-123";
constexpr const char* kSelector = "app=peat-mesh";

// A self-signed CA-capable certificate for 127.0.0.1, written as PEM cert + key.
void make_cert(const fs::path& cert, const fs::path& key) {
  gnutls_x509_privkey_t pk;
  gnutls_x509_crt_t crt;
  ASSERT_EQ(gnutls_x509_privkey_init(&pk), 0);
  ASSERT_EQ(gnutls_x509_privkey_generate(pk, GNUTLS_PK_ECDSA,
                                         GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0),
            0);
  ASSERT_EQ(gnutls_x509_crt_init(&crt), 0);
  const std::uint8_t serial[] = {0x01, 0x23};
  const std::uint8_t ip[] = {127, 0, 0, 1};
  const std::time_t now = std::time(nullptr);
  const char* cn = "peat-test-apiserver";
  ASSERT_EQ(gnutls_x509_crt_set_version(crt, 3), 0);
  ASSERT_EQ(gnutls_x509_crt_set_serial(crt, serial, sizeof serial), 0);
  ASSERT_EQ(gnutls_x509_crt_set_activation_time(crt, now - 3600), 0);
  ASSERT_EQ(gnutls_x509_crt_set_expiration_time(crt, now + 86400), 0);
  ASSERT_EQ(gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn, std::strlen(cn)),
            0);
  ASSERT_EQ(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, ip, sizeof ip,
                                                 GNUTLS_FSAN_SET),
            0);
  ASSERT_EQ(gnutls_x509_crt_set_basic_constraints(crt, 1, -1), 0);
  ASSERT_EQ(gnutls_x509_crt_set_key(crt, pk), 0);
  ASSERT_EQ(gnutls_x509_crt_sign2(crt, crt, pk, GNUTLS_DIG_SHA256, 0), 0);
  gnutls_datum_t out{};
  ASSERT_EQ(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &out), 0);
  std::ofstream(cert) << std::string(reinterpret_cast<char*>(out.data), out.size);
  gnutls_free(out.data);
  ASSERT_EQ(
      gnutls_x509_privkey_export2_pkcs8(pk, GNUTLS_X509_FMT_PEM, nullptr, GNUTLS_PKCS_PLAIN, &out),
      0);
  std::ofstream(key) << std::string(reinterpret_cast<char*>(out.data), out.size);
  gnutls_free(out.data);
  gnutls_x509_crt_deinit(crt);
  gnutls_x509_privkey_deinit(pk);
}

std::string endpoint(const std::string& pod, const std::string& ip, bool ready = true) {
  return R"({"addresses":[")" + ip + R"("],"conditions":{"ready":)" + (ready ? "true" : "false") +
         R"(},"targetRef":{"kind":"Pod","namespace":"mesh","name":")" + pod + R"("}})";
}

std::string slice_list(const std::vector<std::string>& endpoints) {
  std::string eps;
  for (const auto& e : endpoints) eps += (eps.empty() ? "" : ",") + e;
  return R"({"kind":"EndpointSliceList","apiVersion":"discovery.k8s.io/v1",)"
         R"("metadata":{"resourceVersion":"1"},"items":[{"kind":"EndpointSlice",)"
         R"("metadata":{"name":"peat-mesh-x1","namespace":"mesh","labels":{"app":"peat-mesh"},)"
         R"("annotations":{"peat.formation":"alpha"}},"addressType":"IPv4",)"
         R"("ports":[{"name":"broker","port":8081,"protocol":"TCP"},)"
         R"({"name":"iroh-quic","port":11204,"protocol":"UDP"}],"endpoints":[)" +
         eps + "]}]}";
}

class FakeApiServer : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("peat_k8s_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "sa");
    make_cert(dir_ / "sa" / "ca.crt", dir_ / "key.pem");
    if (HasFatalFailure()) return;
    std::ofstream(dir_ / "sa" / "token") << kToken << "\n";
    std::ofstream(dir_ / "sa" / "namespace") << "mesh\n";
    set_state(slice_list({}));

    const std::string cert = (dir_ / "sa" / "ca.crt").string(), key = (dir_ / "key.pem").string(),
                      state = (dir_ / "state.json").string(), port = (dir_ / "port").string();
    std::vector<std::string> args = {"/usr/bin/python3",
                                     PEAT_FAKE_APISERVER,
                                     "--cert",
                                     cert,
                                     "--key",
                                     key,
                                     "--token",
                                     kToken,
                                     "--namespace",
                                     "mesh",
                                     "--selector",
                                     kSelector,
                                     "--state-file",
                                     state,
                                     "--port-file",
                                     port};
    if (GetParam()) args.push_back("--chunked");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ASSERT_EQ(posix_spawn(&pid_, argv[0], nullptr, nullptr, argv.data(), environ), 0);
    // Wait (bounded) for the server to publish its port.
    for (int i = 0; i < 200 && !fs::exists(dir_ / "port"); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_TRUE(fs::exists(dir_ / "port")) << "fake API server did not start";
    std::ifstream(dir_ / "port") >> port_;
    setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1", 1);
    setenv("KUBERNETES_SERVICE_PORT", std::to_string(port_).c_str(), 1);
  }
  void TearDown() override {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
    unsetenv("KUBERNETES_SERVICE_HOST");
    unsetenv("KUBERNETES_SERVICE_PORT");
    fs::remove_all(dir_);
  }
  void set_state(const std::string& json) {
    std::ofstream(dir_ / "state.tmp") << json;
    fs::rename(dir_ / "state.tmp", dir_ / "state.json");
  }
  KubernetesDiscoveryConfig config() const {
    KubernetesDiscoveryConfig c;
    c.service_account_dir = dir_ / "sa";
    c.poll_interval = std::chrono::hours(1);
    return c;
  }
  ApiServerConfig server() const {
    return ApiServerConfig{"127.0.0.1", static_cast<std::uint16_t>(port_), kToken,
                           dir_ / "sa" / "ca.crt"};
  }

  fs::path dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

TEST_P(FakeApiServer, InClusterPollingFollowsPodChurn) {
  auto in_cluster = in_cluster_config(dir_ / "sa");
  ASSERT_TRUE(in_cluster) << in_cluster.error().to_string();
  KubernetesDiscovery d(config(), make_https_api(*in_cluster, std::chrono::seconds(10)));
  EXPECT_EQ(d.kube_namespace(), "mesh");  // from the service-account namespace file
  auto stream = *d.event_stream();

  set_state(
      slice_list({endpoint("peat-mesh-0", "10.244.0.10"), endpoint("peat-mesh-1", "10.244.0.11")}));
  ASSERT_TRUE(d.poll_once());
  auto ev = stream->drain();
  ASSERT_EQ(ev.size(), 2u);
  const auto& p0 = std::get<PeerFound>(ev[0]).peer;
  EXPECT_EQ(p0.node_id, "peat-mesh-0");
  EXPECT_EQ(p0.addresses.at(0), (SocketAddress{"10.244.0.10", 11204}));
  EXPECT_EQ(p0.metadata.at("formation"), "alpha");

  // peat-mesh-1 goes not-ready, peat-mesh-2 starts.
  set_state(slice_list({endpoint("peat-mesh-0", "10.244.0.10"),
                        endpoint("peat-mesh-1", "10.244.0.11", false),
                        endpoint("peat-mesh-2", "10.244.0.12")}));
  ASSERT_TRUE(d.poll_once());
  ev = stream->drain();
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(std::get<PeerFound>(ev[0]).peer.node_id, "peat-mesh-2");
  EXPECT_EQ(std::get<PeerLost>(ev[1]).node_id, "peat-mesh-1");

  // peat-mesh-0 is rescheduled with a new IP, peat-mesh-2 is deleted.
  set_state(
      slice_list({endpoint("peat-mesh-0", "10.244.1.20"), endpoint("peat-mesh-1", "10.244.0.11")}));
  ASSERT_TRUE(d.poll_once());
  ev = stream->drain();
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(std::get<PeerUpdated>(ev[0]).peer.addresses.at(0).host, "10.244.1.20");
  EXPECT_EQ(std::get<PeerFound>(ev[1]).peer.node_id, "peat-mesh-1");
  EXPECT_EQ(std::get<PeerLost>(ev[2]).node_id, "peat-mesh-2");
  EXPECT_EQ(d.discovered_peers().size(), 2u);

  // Unchanged list: no events.
  ASSERT_TRUE(d.poll_once());
  EXPECT_TRUE(stream->drain().empty());
}

TEST_P(FakeApiServer, StartUsesInClusterConfigAndPollsAtOnce) {
  KubernetesDiscovery d(config());
  auto stream = *d.event_stream();
  set_state(slice_list({endpoint("peat-mesh-0", "10.244.0.10")}));
  std::mutex mu;
  std::condition_variable cv;
  stream->set_notify([&] { cv.notify_all(); });
  ASSERT_TRUE(d.start());
  {
    std::unique_lock lock(mu);
    cv.wait_for(lock, std::chrono::seconds(30), [&] { return stream->size() > 0; });  // hang guard
  }
  ASSERT_TRUE(d.stop());
  ASSERT_EQ(stream->size(), 1u);
  EXPECT_EQ(event_node_id(*stream->try_next()), "peat-mesh-0");
}

TEST_P(FakeApiServer, WrongTokenIsAnApiError) {
  auto s = server();
  s.bearer_token = "wrong";
  KubernetesDiscovery d(config(), make_https_api(s));
  auto r = d.poll_once();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "KUBERNETES_ERROR");
  EXPECT_NE(r.error().message.find("HTTP 401"), std::string::npos) << r.error().message;
}

TEST_P(FakeApiServer, UntrustedCertificateIsRejected) {
  make_cert(dir_ / "other-ca.crt", dir_ / "other-key.pem");
  auto s = server();
  s.ca_file = dir_ / "other-ca.crt";
  KubernetesDiscovery d(config(), make_https_api(s));
  auto r = d.poll_once();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("TLS handshake"), std::string::npos) << r.error().message;
  EXPECT_TRUE(d.discovered_peers().empty());
}

TEST_P(FakeApiServer, CertificateMustMatchTheHostName) {
  // The certificate names IP 127.0.0.1 only; "localhost" reaches the same server but must fail.
  auto s = server();
  s.host = "localhost";
  KubernetesDiscovery d(config(), make_https_api(s));
  auto r = d.poll_once();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("TLS handshake"), std::string::npos) << r.error().message;
}

TEST_P(FakeApiServer, WrongNamespaceIs404) {
  auto c = config();
  c.kube_namespace = "elsewhere";
  KubernetesDiscovery d(c, make_https_api(server()));
  auto r = d.poll_once();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("HTTP 404"), std::string::npos) << r.error().message;
}

INSTANTIATE_TEST_SUITE_P(ContentLengthAndChunked, FakeApiServer, ::testing::Bool());

}  // namespace
}  // namespace peat::discovery
