#include "peat/broker/router.hpp"

#include <sodium.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <sstream>

#include "broker/static_content.hpp"
#include "peat/broker/multipart.hpp"

namespace peat::broker {
namespace {

using nlohmann::json;

HttpResponse json_response(int status, const json& body) {
  HttpResponse r;
  r.status = status;
  r.body = body.dump();
  return r;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decoding; nullopt on a malformed escape.
std::optional<std::string> url_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return std::nullopt;
    int hi = hex_digit(in[i + 1]), lo = hex_digit(in[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi << 4 | lo));
    i += 2;
  }
  return out;
}

struct Target {
  std::vector<std::string> segments;  // decoded path segments
  std::map<std::string, std::string> query;
};

std::optional<Target> parse_target(const std::string& target) {
  Target t;
  auto qpos = target.find('?');
  std::string_view path = std::string_view(target).substr(0, qpos);
  if (path.empty() || path[0] != '/') return std::nullopt;
  std::size_t start = 1;
  while (start <= path.size()) {
    auto end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    auto seg = url_decode(path.substr(start, end - start));
    if (!seg) return std::nullopt;
    t.segments.push_back(std::move(*seg));
    start = end + 1;
  }
  if (qpos != std::string::npos) {
    std::string_view q = std::string_view(target).substr(qpos + 1);
    while (!q.empty()) {
      auto amp = q.find('&');
      auto pair = q.substr(0, amp);
      auto eq = pair.find('=');
      auto key = url_decode(pair.substr(0, eq));
      auto value = url_decode(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
      if (!key || !value) return std::nullopt;
      t.query[*key] = *value;
      if (amp == std::string_view::npos) break;
      q = q.substr(amp + 1);
    }
  }
  return t;
}

int status_for(const Error& e);

json blob_json(const BlobSummary& b) {
  return {{"hash", b.hash},
          {"size", b.size},
          {"name", b.name ? json(*b.name) : json(nullptr)},
          {"content_type", b.content_type ? json(*b.content_type) : json(nullptr)}};
}

json fetch_json(const BlobFetchState& f) {
  return {{"hash", f.hash},
          {"peer", f.peer},
          {"state", f.state},
          {"bytes_done", f.bytes_done},
          {"total", f.total}};
}

bool is_blob_hash(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (hex_digit(c) < 0) return false;
  return true;
}

HttpResponse backend_error(const Error& e) {
  return error_response(status_for(e), e.message);
}

json peer_json(const PeerSummary& p) {
  return {{"id", p.id},
          {"connected", p.connected},
          {"state", p.state},
          {"rtt_ms", p.rtt_ms ? json(*p.rtt_ms) : json(nullptr)}};
}

// Parses stored document JSON; a backend that hands us invalid JSON is a server error.
std::optional<json> parse_document(const std::string& text) {
  auto doc = json::parse(text, nullptr, false);
  if (doc.is_discarded()) return std::nullopt;
  return doc;
}

// The Rust bridge's limit (0x300000): the largest image a Peat-Lite device accepts.
constexpr std::size_t kMaxFirmwareBytes = 3 * 1024 * 1024;

int status_for(const Error& e) {
  if (e.code == "BAD_REQUEST") return 400;
  if (e.code == "NOT_FOUND") return 404;
  if (e.code == "NOT_CONNECTED") return 409;
  if (e.code == "UNSUPPORTED") return 501;
  return 500;
}

HttpResponse method_not_allowed(const char* allow) {
  auto r = error_response(405, "method not allowed");
  r.headers.emplace_back("Allow", allow);
  return r;
}

std::string escape_label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  std::ostringstream os;
  os.precision(17);
  os << v;
  return os.str();
}

}  // namespace

HttpResponse error_response(int status, const std::string& message) {
  return json_response(status, {{"error", message}, {"status", status}});
}

std::string format_prometheus(const std::vector<MetricSample>& samples) {
  std::string out;
  std::string last_name;
  for (const auto& s : samples) {
    if (s.name != last_name) {
      out += "# HELP " + s.name + " " + s.help + "\n";
      out += "# TYPE " + s.name + " " + s.type + "\n";
      last_name = s.name;
    }
    out += s.name;
    if (!s.labels.empty()) {
      out += "{";
      for (std::size_t i = 0; i < s.labels.size(); ++i) {
        if (i) out += ",";
        out += s.labels[i].first + "=\"" + escape_label(s.labels[i].second) + "\"";
      }
      out += "}";
    }
    out += " " + format_value(s.value) + "\n";
  }
  return out;
}

namespace {

// /api/v1/blobs[/{hash}[/fetch|/status]].
HttpResponse blob_route(BrokerBackend& backend, const RouterOptions& options,
                        const HttpRequest& request, const Target& target) {
  const auto& s = target.segments;
  const std::string& m = request.method;
  if (s.size() == 3) {
    if (m == "GET") {
      auto list = backend.list_blobs();
      if (!list) return backend_error(list.error());
      json arr = json::array();
      for (const auto& b : *list) arr.push_back(blob_json(b));
      return json_response(200, {{"blobs", arr}, {"count", list->size()}});
    }
    if (m == "POST") {
      // The body is the blob. Name: ?name= or X-Blob-Name; type: Content-Type.
      if (request.body.empty()) return error_response(400, "blob body is empty");
      if (request.body.size() > options.max_blob_bytes) {
        return error_response(
            413, "blob too large (max " + std::to_string(options.max_blob_bytes) + " bytes)");
      }
      std::optional<std::string> name;
      if (auto q = target.query.find("name"); q != target.query.end()) {
        name = q->second;
      } else if (auto h = request.headers.find("x-blob-name"); h != request.headers.end()) {
        name = h->second;
      }
      // curl's default for a body (-d, --data-binary) says nothing about the blob.
      std::optional<std::string> type;
      if (auto h = request.headers.find("content-type");
          h != request.headers.end() && h->second != "application/x-www-form-urlencoded") {
        type = h->second;
      }
      auto added = backend.add_blob(request.body, name, type);
      if (!added) return backend_error(added.error());
      auto r = json_response(201, blob_json(*added));
      r.headers.emplace_back("Location", "/api/v1/blobs/" + added->hash);
      return r;
    }
    return method_not_allowed("GET, POST");
  }
  if (s.size() < 4 || s.size() > 5) return error_response(404, "no such route");
  const std::string& hash = s[3];
  if (!is_blob_hash(hash)) return error_response(400, "blob hash must be 64 hex characters");
  std::string lower = hash;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (s.size() == 4) {
    if (m != "GET") return method_not_allowed("GET");
    auto file = backend.blob_file(lower);
    if (!file) return backend_error(file.error());
    HttpResponse r;
    r.content_type = file->blob.content_type.value_or("application/octet-stream");
    r.file_path = file->path;
    r.headers.emplace_back("ETag", "\"" + lower + "\"");
    r.headers.emplace_back("Cache-Control", "public, max-age=31536000, immutable");
    return r;
  }
  if (s[4] == "fetch") {
    if (m != "POST") return method_not_allowed("POST");
    auto body = json::parse(request.body, nullptr, false);
    if (body.is_discarded() || !body.is_object() || !body.contains("peer") ||
        !body["peer"].is_string() || body["peer"].get<std::string>().empty()) {
      return error_response(400, "body must be {\"peer\": \"<node id>\"}");
    }
    auto started = backend.fetch_blob(lower, body["peer"].get<std::string>());
    if (!started) return backend_error(started.error());
    return json_response(started->state == "complete" ? 200 : 202, fetch_json(*started));
  }
  if (s[4] == "status") {
    if (m != "GET") return method_not_allowed("GET");
    auto st = backend.blob_status(lower);
    if (!st) return backend_error(st.error());
    return json_response(200, fetch_json(*st));
  }
  return error_response(404, "no such route");
}

}  // namespace

Router::Router(BrokerBackend& backend, RouterOptions options)
    : backend_(backend), options_(std::move(options)) {}

bool Router::authorized(const HttpRequest& request) const {
  if (!options_.bearer_token) return true;
  const std::string& expected = *options_.bearer_token;
  std::string presented;
  if (auto it = request.headers.find("authorization"); it != request.headers.end()) {
    static constexpr std::string_view kPrefix = "Bearer ";
    if (it->second.compare(0, kPrefix.size(), kPrefix) == 0) presented = it->second.substr(7);
  } else if (auto t = parse_target(request.target)) {
    // Browsers cannot set headers on a WebSocket, so the token may come as a query parameter.
    if (auto q = t->query.find("access_token"); q != t->query.end()) presented = q->second;
  }
  if (presented.size() != expected.size()) return false;
  return sodium_memcmp(presented.data(), expected.data(), expected.size()) == 0;
}

bool Router::websocket_allowed(const HttpRequest& request) const {
  auto t = parse_target(request.target);
  return t && t->segments == std::vector<std::string>{"api", "v1", "ws"} && authorized(request);
}

HttpResponse Router::handle(const HttpRequest& request) {
  ++stats_.requests;
  HttpResponse r;
  try {
    r = route(request);
  } catch (const std::exception& e) {
    // Backends may throw; a request must never take the server down.
    r = error_response(500, std::string("internal error: ") + e.what());
  }
  if (r.status >= 400 && r.status < 500) ++stats_.client_errors;
  if (r.status >= 500) ++stats_.server_errors;
  if (r.status == 401) ++stats_.unauthorized;
  r.headers.emplace_back("Access-Control-Allow-Origin", "*");
  return r;
}

HttpResponse Router::route(const HttpRequest& request) {
  auto target = parse_target(request.target);
  if (!target) return error_response(400, "malformed request target");
  const auto& s = target->segments;
  const std::string& m = request.method;

  if (m == "OPTIONS") {
    HttpResponse r;
    r.status = 204;
    r.headers = {{"Access-Control-Allow-Methods", "GET, PUT, POST, DELETE, OPTIONS"},
                 {"Access-Control-Allow-Headers", "Authorization, Content-Type"}};
    return r;
  }

  if (s == std::vector<std::string>{""} || s == std::vector<std::string>{"topology"}) {
    if (m != "GET") return method_not_allowed("GET");
    HttpResponse r;
    r.content_type = "text/html; charset=utf-8";
    r.body = std::string(kTopologyPage);
    return r;
  }
  if (s == std::vector<std::string>{"metrics"}) {
    if (m != "GET") return method_not_allowed("GET");
    if (!authorized(request)) return error_response(401, "missing or invalid bearer token");
    auto samples = backend_.metrics();
    samples.push_back({"peat_broker_requests_total",
                       "HTTP requests handled by the broker",
                       "counter",
                       {},
                       static_cast<double>(stats_.requests)});
    samples.push_back({"peat_broker_client_errors_total",
                       "Broker responses with a 4xx status",
                       "counter",
                       {},
                       static_cast<double>(stats_.client_errors)});
    samples.push_back({"peat_broker_server_errors_total",
                       "Broker responses with a 5xx status",
                       "counter",
                       {},
                       static_cast<double>(stats_.server_errors)});
    samples.insert(samples.end(), extra_metrics_.begin(), extra_metrics_.end());
    HttpResponse r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = format_prometheus(samples);
    return r;
  }

  if (s.size() < 3 || s[0] != "api" || s[1] != "v1") return error_response(404, "no such route");
  const std::string& top = s[2];

  if (top == "health" && s.size() == 3) {
    if (m != "GET") return method_not_allowed("GET");
    return json_response(200, {{"status", "healthy"}, {"node_id", backend_.node_info().node_id}});
  }
  if (top == "ready" && s.size() == 3) {
    if (m != "GET") return method_not_allowed("GET");
    auto ready = backend_.readiness();
    json checks = json::array();
    for (const auto& c : ready.checks) {
      checks.push_back({{"name", c.name},
                        {"ready", c.ready},
                        {"message", c.message ? json(*c.message) : json(nullptr)}});
    }
    return json_response(
        ready.ready ? 200 : 503,
        {{"ready", ready.ready}, {"node_id", backend_.node_info().node_id}, {"checks", checks}});
  }
  if (!authorized(request)) return error_response(401, "missing or invalid bearer token");

  if (top == "ws" && s.size() == 3) {
    auto r = error_response(426, "use a WebSocket upgrade on this path");
    r.headers.emplace_back("Upgrade", "websocket");
    return r;
  }
  if (top == "openapi.json" && s.size() == 3) {
    if (m != "GET") return method_not_allowed("GET");
    HttpResponse r;
    r.body = std::string(kOpenApiDocument);
    return r;
  }
  if (top == "node" && s.size() == 3) {
    if (m != "GET") return method_not_allowed("GET");
    auto info = backend_.node_info();
    return json_response(
        200,
        {{"node_id", info.node_id}, {"uptime_secs", info.uptime_secs}, {"version", info.version}});
  }
  if (top == "peers" && s.size() == 3) {
    if (m != "GET") return method_not_allowed("GET");
    json peers = json::array();
    auto list = backend_.peers();
    for (const auto& p : list) peers.push_back(peer_json(p));
    return json_response(200, {{"peers", peers}, {"count", list.size()}});
  }
  if (top == "peers" && s.size() == 4) {
    if (m != "GET") return method_not_allowed("GET");
    auto p = backend_.peer(s[3]);
    if (!p) return error_response(404, "peer not found: " + s[3]);
    return json_response(200, peer_json(*p));
  }
  if (top == "topology" && s.size() == 3) {
    if (m != "GET") return method_not_allowed("GET");
    auto t = backend_.topology();
    json body{
        {"peer_count", t.peer_count}, {"role", t.role}, {"hierarchy_level", t.hierarchy_level}};
    if (auto parent = backend_.topology_parent()) body["parent"] = *parent;
    return json_response(200, body);
  }
  if (top == "ota" && s.size() == 4 && !s[3].empty()) {
    if (m != "POST") return method_not_allowed("POST");
    auto ct = request.headers.find("content-type");
    auto form = parse_multipart(ct == request.headers.end() ? "" : ct->second, request.body);
    if (!form) return error_response(400, form.error().message);
    auto firmware = form->find("firmware");
    if (firmware == form->end()) return error_response(400, "missing 'firmware' field");
    if (firmware->second.content.empty()) return error_response(400, "firmware file is empty");
    if (firmware->second.content.size() > kMaxFirmwareBytes) {
      return error_response(400, "firmware too large (max 3MB)");
    }
    auto version_part = form->find("version");
    std::string version = version_part == form->end() ? "0.0.0" : version_part->second.content;
    auto started = backend_.start_ota(s[3], std::move(firmware->second.content), version);
    if (!started) {
      int status = status_for(started.error());
      return error_response(status, status == 500
                                        ? "failed to start OTA: " + started.error().message
                                        : started.error().message);
    }
    return json_response(202, {{"session_id", started->session_id},
                               {"peer_id", started->peer_id},
                               {"firmware_size", started->firmware_size},
                               {"total_chunks", started->total_chunks},
                               {"version", started->version}});
  }
  if (top == "ota" && s.size() == 5 && s[4] == "status") {
    if (m != "GET") return method_not_allowed("GET");
    auto st = backend_.ota_status(s[3]);
    if (!st) return error_response(404, "no OTA session for peer: " + s[3]);
    return json_response(200, {{"session_id", st->session_id},
                               {"state", st->state},
                               {"progress_percent", st->progress_percent},
                               {"chunks_sent", st->chunks_sent},
                               {"total_chunks", st->total_chunks},
                               {"elapsed_secs", st->elapsed_secs}});
  }
  if (top == "blobs") return blob_route(backend_, options_, request, *target);
  if (top == "documents" && s.size() >= 4 && !s[3].empty()) {
    const std::string& collection = s[3];
    if (s.size() == 4) {
      if (m != "GET") return method_not_allowed("GET");
      auto docs = backend_.list_documents(collection);
      if (!docs) return error_response(404, "collection not available: " + collection);
      json arr = json::array();
      for (const auto& d : *docs) {
        auto parsed = parse_document(d);
        if (!parsed) return error_response(500, "stored document is not valid JSON");
        arr.push_back(std::move(*parsed));
      }
      return json_response(200,
                           {{"collection", collection}, {"count", arr.size()}, {"documents", arr}});
    }
    if (s.size() == 5 && s[4] == "_query") {
      if (m != "POST") return method_not_allowed("POST");
      auto q = json::parse(request.body, nullptr, false);
      if (q.is_discarded() || !q.is_object())
        return error_response(400, "query must be a JSON object");
      auto result = backend_.query_documents(collection, request.body);
      if (!result) {
        return error_response(result.error().code == "BAD_REQUEST" ? 400 : 500,
                              result.error().message);
      }
      json arr = json::array();
      for (const auto& d : *result) {
        auto parsed = parse_document(d);
        if (!parsed) return error_response(500, "stored document is not valid JSON");
        arr.push_back(std::move(*parsed));
      }
      return json_response(200,
                           {{"collection", collection}, {"count", arr.size()}, {"documents", arr}});
    }
    if (s.size() == 5 && !s[4].empty()) {
      const std::string& id = s[4];
      if (m == "GET") {
        auto doc = backend_.get_document(collection, id);
        if (!doc) return error_response(404, "document not found: " + collection + "/" + id);
        auto parsed = parse_document(*doc);
        if (!parsed) return error_response(500, "stored document is not valid JSON");
        return json_response(200, {{"collection", collection}, {"id", id}, {"document", *parsed}});
      }
      if (m == "PUT") {
        auto body = json::parse(request.body, nullptr, false);
        if (body.is_discarded() || !body.is_object()) {
          return error_response(400, "document body must be a JSON object");
        }
        auto st = backend_.put_document(collection, id, request.body);
        if (!st) {
          return error_response(st.error().code == "BAD_REQUEST" ? 400 : 500, st.error().message);
        }
        return json_response(200, {{"collection", collection}, {"id", id}, {"stored", true}});
      }
      if (m == "DELETE") {
        auto deleted = backend_.delete_document(collection, id);
        if (!deleted) return error_response(500, deleted.error().message);
        if (!*deleted) return error_response(404, "document not found: " + collection + "/" + id);
        return json_response(200, {{"collection", collection}, {"id", id}, {"deleted", true}});
      }
      return method_not_allowed("GET, PUT, DELETE");
    }
  }
  return error_response(404, "no such route");
}

}  // namespace peat::broker
