// Router: maps one HTTP request to one response. Pure: no sockets, so every route, error and
// limit is tested without a server. The Beast adapter (server.hpp) feeds it.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "peat/broker/backend.hpp"

namespace peat::broker {

struct HttpRequest {
  std::string method;                          // "GET", "POST", ...
  std::string target;                          // path and optional query
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // When set, the body is this file's content, streamed by the server (body stays empty).
  std::optional<std::string> file_path;
};

struct RouterOptions {
  // When set, every /api/v1 route except health and ready needs "Authorization: Bearer <token>".
  std::optional<std::string> bearer_token;
  // Largest blob accepted by POST /api/v1/blobs (the server's body limit for that route).
  std::size_t max_blob_bytes = 64 * 1024 * 1024;
};

// Counts requests by status class for /metrics.
struct RouterStats {
  std::uint64_t requests = 0;
  std::uint64_t client_errors = 0;
  std::uint64_t server_errors = 0;
  std::uint64_t unauthorized = 0;
};

class Router {
 public:
  Router(BrokerBackend& backend, RouterOptions options);

  HttpResponse handle(const HttpRequest& request);
  // True when `request` may open the event WebSocket (path and auth).
  bool websocket_allowed(const HttpRequest& request) const;
  bool authorized(const HttpRequest& request) const;

  const RouterStats& stats() const { return stats_; }
  // Extra samples appended to /metrics (e.g. the server's connection counts).
  void set_extra_metrics(std::vector<MetricSample> samples) { extra_metrics_ = std::move(samples); }

 private:
  HttpResponse route(const HttpRequest& request);

  BrokerBackend& backend_;
  RouterOptions options_;
  RouterStats stats_;
  std::vector<MetricSample> extra_metrics_;
};

// The JSON error body every failing route returns: {"error": message, "status": code}.
HttpResponse error_response(int status, const std::string& message);

// Prometheus text exposition format 0.0.4.
std::string format_prometheus(const std::vector<MetricSample>& samples);

}  // namespace peat::broker
