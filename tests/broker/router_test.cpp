#include "peat/broker/router.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "broker/fake_backend.hpp"

namespace peat::broker {
namespace {

using nlohmann::json;

class RouterTest : public ::testing::Test {
 protected:
  HttpResponse call(std::string method, std::string target, std::string body = {},
                    std::map<std::string, std::string> headers = {}) {
    return router.handle(
        {std::move(method), std::move(target), std::move(headers), std::move(body)});
  }
  static json body(const HttpResponse& r) { return json::parse(r.body); }

  testing::FakeBackend backend;
  Router router{backend, {}};
};

TEST_F(RouterTest, HealthReadyNodeMatchTheRustShapes) {
  auto r = call("GET", "/api/v1/health");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(body(r), (json{{"status", "healthy"}, {"node_id", "node-a"}}));

  backend.ready = {false, {{"store", false, "opening"}}};
  r = call("GET", "/api/v1/ready");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(body(r)["checks"][0],
            (json{{"name", "store"}, {"ready", false}, {"message", "opening"}}));

  r = call("GET", "/api/v1/node");
  EXPECT_EQ(body(r), (json{{"node_id", "node-a"}, {"uptime_secs", 42}, {"version", "0.1.0"}}));
}

TEST_F(RouterTest, PeersAndTopology) {
  auto r = call("GET", "/api/v1/peers");
  EXPECT_EQ(body(r)["count"], 2);
  EXPECT_EQ(body(r)["peers"][1]["rtt_ms"], nullptr);
  r = call("GET", "/api/v1/peers/peer-1");
  EXPECT_EQ(body(r),
            (json{{"id", "peer-1"}, {"connected", true}, {"state", "healthy"}, {"rtt_ms", 3}}));
  r = call("GET", "/api/v1/peers/nobody");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(body(r), (json{{"error", "peer not found: nobody"}, {"status", 404}}));
  r = call("GET", "/api/v1/topology");
  EXPECT_EQ(body(r), (json{{"peer_count", 2}, {"role", "leader"}, {"hierarchy_level", 1}}));
}

TEST_F(RouterTest, DocumentCrud) {
  EXPECT_EQ(call("GET", "/api/v1/documents/tracks").status, 404);
  auto r = call("PUT", "/api/v1/documents/tracks/t%201", R"({"lat":1.5})");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(backend.docs.count({"tracks", "t 1"}), 1u);  // path segments are percent-decoded
  r = call("GET", "/api/v1/documents/tracks/t%201");
  EXPECT_EQ(body(r), (json{{"collection", "tracks"}, {"id", "t 1"}, {"document", {{"lat", 1.5}}}}));
  r = call("GET", "/api/v1/documents/tracks");
  EXPECT_EQ(body(r)["count"], 1);
  r = call("DELETE", "/api/v1/documents/tracks/t%201");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(call("DELETE", "/api/v1/documents/tracks/t%201").status, 404);
  EXPECT_EQ(call("GET", "/api/v1/documents/tracks/t%201").status, 404);
}

TEST_F(RouterTest, QueryPassesBodyAndMapsBadRequest) {
  backend.docs[{"c", "1"}] = R"({"x":1})";
  auto r = call("POST", "/api/v1/documents/c/_query", R"({"where":[]})");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(backend.last_query, R"({"where":[]})");
  r = call("POST", "/api/v1/documents/c/_query", R"({"where":[{"op":"bad"}]})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(body(r)["error"], "unknown operator: bad");
}

TEST_F(RouterTest, RejectsBadBodiesTargetsAndMethods) {
  EXPECT_EQ(call("PUT", "/api/v1/documents/c/1", "{not json").status, 400);
  EXPECT_EQ(call("PUT", "/api/v1/documents/c/1", "[1,2]").status, 400);
  EXPECT_EQ(call("POST", "/api/v1/documents/c/_query", "nope").status, 400);
  EXPECT_EQ(call("GET", "/api/v1/documents/c/%zz").status, 400);
  EXPECT_EQ(call("GET", "relative").status, 400);
  auto r = call("POST", "/api/v1/health");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.headers[0], (std::pair<std::string, std::string>{"Allow", "GET"}));
  EXPECT_EQ(call("GET", "/api/v1/nothing").status, 404);
  EXPECT_EQ(call("GET", "/api/v1/health/").status, 404);  // trailing slash is another path
  EXPECT_EQ(call("GET", "/api/v1/ws").status, 426);
}

TEST_F(RouterTest, BackendExceptionBecomes500) {
  backend.throw_on_list = true;
  auto r = call("GET", "/api/v1/documents/c");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(router.stats().server_errors, 1u);
}

TEST_F(RouterTest, StoredInvalidJsonIs500NotACrash) {
  backend.docs[{"c", "1"}] = "{broken";
  EXPECT_EQ(call("GET", "/api/v1/documents/c/1").status, 500);
}

TEST_F(RouterTest, CorsHeaderAndPreflight) {
  auto r = call("OPTIONS", "/api/v1/peers");
  EXPECT_EQ(r.status, 204);
  bool has_origin = false;
  for (const auto& [k, v] : r.headers) has_origin |= k == "Access-Control-Allow-Origin" && v == "*";
  EXPECT_TRUE(has_origin);
}

TEST_F(RouterTest, PrometheusMetricsIncludeBackendAndRequestCounts) {
  call("GET", "/api/v1/health");
  call("GET", "/api/v1/nothing");
  auto r = call("GET", "/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(r.body.find("# TYPE peat_peers gauge\npeat_peers{transport=\"quic\"} 2\n"),
            std::string::npos);
  EXPECT_NE(r.body.find("peat_broker_requests_total 3\n"), std::string::npos);
  EXPECT_NE(r.body.find("peat_broker_client_errors_total 1\n"), std::string::npos);
}

TEST(PrometheusFormat, EscapesLabelsAndGroupsHelp) {
  std::vector<MetricSample> s{{"m", "help", "counter", {{"l", "a\"b\\c\nd"}}, 1},
                              {"m", "help", "counter", {{"l", "x"}}, 2.5}};
  EXPECT_EQ(format_prometheus(s),
            "# HELP m help\n# TYPE m counter\nm{l=\"a\\\"b\\\\c\\nd\"} 1\nm{l=\"x\"} 2.5\n");
}

TEST_F(RouterTest, OpenApiAndTopologyPage) {
  auto r = call("GET", "/api/v1/openapi.json");
  auto doc = body(r);
  EXPECT_EQ(doc["openapi"], "3.0.3");
  EXPECT_TRUE(doc["paths"].contains("/api/v1/documents/{collection}/{id}"));
  for (const char* path : {"/api/v1/blobs", "/api/v1/blobs/{hash}", "/api/v1/blobs/{hash}/fetch",
                           "/api/v1/blobs/{hash}/status"}) {
    EXPECT_TRUE(doc["paths"].contains(path)) << path;
  }
  r = call("GET", "/");
  EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
  EXPECT_NE(r.body.find("/api/v1/ws"), std::string::npos);
}

std::string ota_form(const std::string& firmware, const char* version = nullptr) {
  std::string body =
      "--B\r\nContent-Disposition: form-data; name=\"firmware\"; filename=\"f\"\r\n\r\n" +
      firmware + "\r\n";
  if (version) {
    body += "--B\r\nContent-Disposition: form-data; name=\"version\"\r\n\r\n" +
            std::string(version) + "\r\n";
  }
  return body + "--B--\r\n";
}

TEST_F(RouterTest, OtaUploadAndStatus) {
  std::map<std::string, std::string> h{{"content-type", "multipart/form-data; boundary=B"}};
  EXPECT_EQ(call("GET", "/api/v1/ota/lite-0000002A/status").status, 404);
  auto r = call("POST", "/api/v1/ota/lite-0000002A", ota_form(std::string(500, 'f'), "2.0.1"), h);
  EXPECT_EQ(r.status, 202);
  EXPECT_EQ(body(r), (json{{"session_id", 7},
                           {"peer_id", "lite-0000002A"},
                           {"firmware_size", 500},
                           {"total_chunks", 2},
                           {"version", "2.0.1"}}));
  EXPECT_EQ(backend.ota_firmware, std::string(500, 'f'));
  r = call("GET", "/api/v1/ota/lite-0000002A/status");
  EXPECT_EQ(body(r)["state"], "transferring");
  EXPECT_EQ(body(r)["progress_percent"], 50);
}

TEST_F(RouterTest, OtaRejectsBadUploads) {
  std::map<std::string, std::string> h{{"content-type", "multipart/form-data; boundary=B"}};
  auto r = call("POST", "/api/v1/ota/lite-0000002A", ota_form(""), h);
  EXPECT_EQ(body(r)["error"], "firmware file is empty");
  r = call("POST", "/api/v1/ota/lite-0000002A", ota_form(std::string(3 * 1024 * 1024 + 1, 'x')), h);
  EXPECT_EQ(body(r)["error"], "firmware too large (max 3MB)");
  r = call("POST", "/api/v1/ota/lite-0000002A", "--B--\r\n", h);
  EXPECT_EQ(body(r)["error"], "missing 'firmware' field");
  EXPECT_EQ(call("POST", "/api/v1/ota/lite-0000002A", "x", {}).status, 400);
  EXPECT_EQ(call("POST", "/api/v1/ota/lite-FFFFFFFF", ota_form("fw"), h).status, 404);
  auto v = call("POST", "/api/v1/ota/lite-0000002A", ota_form("fw"), h);
  EXPECT_EQ(body(v)["version"], "0.0.0");  // default when the field is absent
}

TEST_F(RouterTest, BlobUploadListGetFetchStatus) {
  EXPECT_EQ(body(call("GET", "/api/v1/blobs"))["count"], 0);
  auto r = call("POST", "/api/v1/blobs?name=greeting.txt", "hello blob",
                {{"content-type", "text/plain"}});
  ASSERT_EQ(r.status, 201) << r.body;
  auto added = body(r);
  const std::string hash = added["hash"];
  EXPECT_EQ(hash, "e997afd18e5f6be004fc193aed2c90291e68ab2c7599a62538c935b7fca6ab0f");
  EXPECT_EQ(added["size"], 10);
  EXPECT_EQ(added["name"], "greeting.txt");
  EXPECT_EQ(added["content_type"], "text/plain");
  bool located = false;
  for (const auto& [k, v] : r.headers) located |= k == "Location" && v == "/api/v1/blobs/" + hash;
  EXPECT_TRUE(located);
  auto list = body(call("GET", "/api/v1/blobs"));
  EXPECT_EQ(list["count"], 1);
  EXPECT_EQ(list["blobs"][0]["hash"], hash);

  // GET streams the file: the router names it, the server sends it.
  std::string upper = hash;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto got = call("GET", "/api/v1/blobs/" + upper);
  EXPECT_EQ(got.status, 200);
  ASSERT_TRUE(got.file_path);
  EXPECT_TRUE(got.body.empty());
  EXPECT_EQ(got.content_type, "text/plain");
  auto st = body(call("GET", "/api/v1/blobs/" + hash + "/status"));
  EXPECT_EQ(st["state"], "complete");
  EXPECT_EQ(st["bytes_done"], 10);

  const std::string other(64, 'b');
  r = call("POST", "/api/v1/blobs/" + other + "/fetch", R"({"peer":"peer-1"})");
  EXPECT_EQ(r.status, 202);
  EXPECT_EQ(body(r), (json{{"hash", other},
                           {"peer", "peer-1"},
                           {"state", "fetching"},
                           {"bytes_done", 0},
                           {"total", 0}}));
  EXPECT_EQ(body(call("GET", "/api/v1/blobs/" + other + "/status"))["state"], "fetching");
}

TEST_F(RouterTest, BlobErrors) {
  const std::string h(64, 'c');
  EXPECT_EQ(call("POST", "/api/v1/blobs", "").status, 400);
  EXPECT_EQ(call("GET", "/api/v1/blobs/xyz").status, 400);
  EXPECT_EQ(call("GET", "/api/v1/blobs/" + std::string(63, 'a')).status, 400);
  auto missing = call("GET", "/api/v1/blobs/" + h);
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(body(missing)["status"], 404);
  EXPECT_EQ(call("GET", "/api/v1/blobs/" + h + "/status").status, 404);
  EXPECT_EQ(call("POST", "/api/v1/blobs/" + h + "/fetch", "not json").status, 400);
  EXPECT_EQ(call("POST", "/api/v1/blobs/" + h + "/fetch", R"({"peer":""})").status, 400);
  EXPECT_EQ(call("POST", "/api/v1/blobs/" + h + "/fetch", R"({"peer":"peer-2"})").status, 409);
  EXPECT_EQ(call("POST", "/api/v1/blobs/" + h + "/fetch", R"({"peer":"nobody"})").status, 404);
  EXPECT_EQ(call("DELETE", "/api/v1/blobs").status, 405);
  EXPECT_EQ(call("PUT", "/api/v1/blobs/" + h).status, 405);
  EXPECT_EQ(call("GET", "/api/v1/blobs/" + h + "/fetch").status, 405);
  EXPECT_EQ(call("GET", "/api/v1/blobs/" + h + "/other").status, 404);

  // curl's default Content-Type for a body is not kept as the blob's type.
  auto form =
      call("POST", "/api/v1/blobs", "abc", {{"content-type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(form.status, 201);
  EXPECT_TRUE(body(form)["content_type"].is_null());

  Router small(backend, RouterOptions{std::nullopt, 8});
  auto r = small.handle({"POST", "/api/v1/blobs", {}, "123456789"});
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(small.handle({"POST", "/api/v1/blobs", {}, "12345678"}).status, 201);

  // A backend without blobs answers 501.
  class NoBlobs : public testing::FakeBackend {
   public:
    Result<std::vector<BlobSummary>> list_blobs() override { return BrokerBackend::list_blobs(); }
  } none;
  Router plain(none, {});
  EXPECT_EQ(plain.handle({"GET", "/api/v1/blobs", {}, ""}).status, 501);
}

TEST(RouterAuth, BearerTokenGuardsApiButNotHealth) {
  testing::FakeBackend backend;
  Router router(backend, {std::string("s3cret")});
  auto get = [&](std::string target, std::map<std::string, std::string> h = {}) {
    return router.handle({"GET", std::move(target), std::move(h), {}});
  };
  EXPECT_EQ(get("/api/v1/health").status, 200);
  EXPECT_EQ(get("/api/v1/peers").status, 401);
  EXPECT_EQ(get("/api/v1/peers", {{"authorization", "Bearer wrong!"}}).status, 401);
  EXPECT_EQ(get("/api/v1/peers", {{"authorization", "Bearer s3cret"}}).status, 200);
  EXPECT_EQ(get("/metrics").status, 401);
  EXPECT_EQ(get("/api/v1/peers?access_token=s3cret").status, 200);
  EXPECT_FALSE(router.websocket_allowed({"GET", "/api/v1/ws", {}, {}}));
  EXPECT_TRUE(router.websocket_allowed({"GET", "/api/v1/ws?access_token=s3cret", {}, {}}));
  EXPECT_EQ(router.stats().unauthorized, 3u);
}

}  // namespace
}  // namespace peat::broker
