// The only translation unit that includes Boost.Beast: HTTP/1.1 sessions and the event WebSocket.
#include "peat/broker/server.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <algorithm>
#include <deque>
#include <map>
#include <set>

#include "runtime/asio.hpp"

namespace peat::broker {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

constexpr auto kAwait = asio::use_awaitable;

// One WebSocket subscriber: a bounded queue and a timer used as a wake-up signal.
struct WsClient {
  explicit WsClient(asio::io_context& ctx) : wake(ctx) {}
  std::deque<std::string> queue;
  asio::steady_timer wake;
  bool closed = false;
  std::uint64_t dropped = 0;
};

void log_exception(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    spdlog::error("broker: session failed: {}", ex.what());
  }
}

// Takes the body over (a blob upload may be large); the headers stay readable.
HttpRequest to_request(http::request<http::string_body>& req) {
  HttpRequest r;
  r.method = std::string(req.method_string());
  r.target = std::string(req.target());
  for (const auto& field : req) {
    std::string name(field.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    r.headers[name] = std::string(field.value());
  }
  r.body = std::move(req.body());
  return r;
}

http::response<http::string_body> to_beast(const HttpResponse& resp, unsigned version,
                                           bool keep_alive) {
  http::response<http::string_body> res{static_cast<http::status>(resp.status), version};
  res.set(http::field::server, "peat-mesh");
  if (!resp.body.empty() || resp.status != 204)
    res.set(http::field::content_type, resp.content_type);
  for (const auto& [name, value] : resp.headers) res.set(name, value);
  res.body() = resp.body;
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

}  // namespace

struct BrokerServer::Impl : std::enable_shared_from_this<Impl> {
  Impl(runtime::IoLoop& l, BrokerBackend& b, BrokerConfig c)
      : ctx(runtime::asio_context(l)),
        config(std::move(c)),
        router(b, RouterOptions{config.bearer_token, config.max_blob_bytes}),
        acceptor(ctx) {}

  asio::io_context& ctx;
  BrokerConfig config;
  Router router;
  tcp::acceptor acceptor;
  std::uint16_t bound_port = 0;
  bool stopped = false;
  std::size_t connections = 0;
  std::uint64_t next_closer = 0;
  std::map<std::uint64_t, std::function<void()>> closers;  // closes each open connection
  std::set<std::shared_ptr<WsClient>> ws_clients;

  std::uint64_t add_closer(std::function<void()> close) {
    closers.emplace(++next_closer, std::move(close));
    return next_closer;
  }

  void update_metrics() {
    router.set_extra_metrics({{"peat_broker_connections",
                               "Open HTTP and WebSocket connections",
                               "gauge",
                               {},
                               static_cast<double>(connections)},
                              {"peat_broker_websocket_clients",
                               "Open event WebSocket subscriptions",
                               "gauge",
                               {},
                               static_cast<double>(ws_clients.size())}});
  }

  asio::awaitable<void> accept_loop();
  asio::awaitable<void> http_session(tcp::socket socket);
  asio::awaitable<void> ws_session(beast::tcp_stream stream, http::request<http::string_body> req);
  static asio::awaitable<void> ws_reader(std::shared_ptr<websocket::stream<beast::tcp_stream>> ws,
                                         std::shared_ptr<WsClient> client);
  asio::awaitable<void> write_error(beast::tcp_stream& stream, int status, const std::string& msg);
};

asio::awaitable<void> BrokerServer::Impl::accept_loop() {
  auto self = shared_from_this();
  while (!stopped) {
    beast::error_code ec;
    tcp::socket socket = co_await acceptor.async_accept(asio::redirect_error(kAwait, ec));
    if (stopped || ec == asio::error::operation_aborted) co_return;
    if (ec) {
      // Out of descriptors or similar: back off instead of spinning.
      spdlog::warn("broker: accept failed: {}", ec.message());
      asio::steady_timer pause(ctx, std::chrono::milliseconds(100));
      co_await pause.async_wait(asio::redirect_error(kAwait, ec));
      continue;
    }
    if (connections >= config.max_connections) {
      socket.close(ec);
      continue;
    }
    asio::co_spawn(ctx, http_session(std::move(socket)), log_exception);
  }
}

asio::awaitable<void> BrokerServer::Impl::write_error(beast::tcp_stream& stream, int status,
                                                      const std::string& msg) {
  auto res = to_beast(error_response(status, msg), 11, false);
  beast::error_code ec;
  co_await http::async_write(stream, res, asio::redirect_error(kAwait, ec));
}

asio::awaitable<void> BrokerServer::Impl::http_session(tcp::socket socket) {
  auto self = shared_from_this();
  auto stream = std::make_shared<beast::tcp_stream>(std::move(socket));
  auto closer = add_closer([weak = std::weak_ptr(stream)] {
    if (auto s = weak.lock()) s->socket().close();
  });
  ++connections;
  struct Release {
    Impl* impl;
    std::uint64_t closer;
    ~Release() {
      --impl->connections;
      impl->closers.erase(closer);
    }
  } release{this, closer};

  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    // The larger limit until the header says whether this is a blob upload.
    parser.body_limit(std::max(config.max_body_bytes, config.max_blob_bytes));
    parser.header_limit(16 * 1024);
    stream->expires_after(config.request_timeout);
    beast::error_code ec;
    co_await http::async_read_header(*stream, buffer, parser, asio::redirect_error(kAwait, ec));
    if (!ec) {
      // A blob upload may be larger than other bodies.
      const auto& head = parser.get();
      auto target = std::string_view(head.target().data(), head.target().size());
      const bool blob_upload =
          head.method() == http::verb::post &&
          (target == "/api/v1/blobs" || target.rfind("/api/v1/blobs?", 0) == 0);
      const std::size_t limit = blob_upload ? config.max_blob_bytes : config.max_body_bytes;
      if (parser.content_length() && *parser.content_length() > limit) {
        co_await write_error(*stream, 413, "request body too large");
        break;
      }
      parser.body_limit(limit);  // chunked bodies are checked as they arrive
      // Clients such as curl wait for "100 Continue" before sending a large body.
      if (beast::iequals(head[http::field::expect], "100-continue")) {
        http::response<http::empty_body> go_on{http::status::continue_, head.version()};
        co_await http::async_write(*stream, go_on, asio::redirect_error(kAwait, ec));
      }
    }
    if (!ec && !parser.is_done()) {
      co_await http::async_read(*stream, buffer, parser, asio::redirect_error(kAwait, ec));
    }
    // A timed-out read has already closed the socket (beast::tcp_stream), so a slow client gets
    // a closed connection, not a 408.
    if (ec == http::error::end_of_stream || stopped) break;
    if (ec == http::error::body_limit) {
      co_await write_error(*stream, 413, "request body too large");
      break;
    }
    if (ec && ec.category() == http::make_error_code(http::error::bad_target).category()) {
      co_await write_error(*stream, 400, "malformed HTTP request: " + ec.message());
      break;
    }
    if (ec) break;

    auto request = to_request(parser.get());
    if (websocket::is_upgrade(parser.get())) {
      if (!router.websocket_allowed(request)) {
        co_await write_error(*stream, router.authorized(request) ? 404 : 401,
                             "WebSocket upgrade refused");
        break;
      }
      stream->expires_never();
      co_await ws_session(std::move(*stream), parser.release());
      co_return;
    }
    update_metrics();
    auto response = router.handle(request);
    const bool keep_alive = parser.get().keep_alive() && !stopped;
    if (response.file_path) {
      // Streamed from the file in pieces; nothing of it is held in memory.
      http::response<http::file_body> res{static_cast<http::status>(response.status),
                                          parser.get().version()};
      res.body().open(response.file_path->c_str(), beast::file_mode::scan, ec);
      if (ec) {
        co_await write_error(*stream, 500, "cannot open blob: " + ec.message());
        break;
      }
      res.set(http::field::server, "peat-mesh");
      res.set(http::field::content_type, response.content_type);
      for (const auto& [name, value] : response.headers) res.set(name, value);
      res.keep_alive(keep_alive);
      res.prepare_payload();
      stream->expires_after(config.request_timeout * 10);
      co_await http::async_write(*stream, res, asio::redirect_error(kAwait, ec));
      if (ec || !keep_alive) break;
      continue;
    }
    auto res = to_beast(response, parser.get().version(), keep_alive);
    co_await http::async_write(*stream, res, asio::redirect_error(kAwait, ec));
    if (ec || !res.keep_alive()) break;
  }
  beast::error_code ignored;
  stream->socket().shutdown(tcp::socket::shutdown_send, ignored);
}

asio::awaitable<void> BrokerServer::Impl::ws_reader(
    std::shared_ptr<websocket::stream<beast::tcp_stream>> ws, std::shared_ptr<WsClient> client) {
  // Client frames carry nothing for us; reading them is how a close or a dead peer is noticed.
  beast::flat_buffer buffer;
  beast::error_code ec;
  while (!client->closed) {
    co_await ws->async_read(buffer, asio::redirect_error(kAwait, ec));
    if (ec) break;
    buffer.consume(buffer.size());
  }
  client->closed = true;
  client->wake.cancel();
}

asio::awaitable<void> BrokerServer::Impl::ws_session(beast::tcp_stream stream,
                                                     http::request<http::string_body> req) {
  auto self = shared_from_this();
  auto ws = std::make_shared<websocket::stream<beast::tcp_stream>>(std::move(stream));
  ws->set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
  ws->read_message_max(64 * 1024);
  beast::error_code ec;
  co_await ws->async_accept(req, asio::redirect_error(kAwait, ec));
  if (ec) co_return;

  auto client = std::make_shared<WsClient>(ctx);
  ws_clients.insert(client);
  auto closer = add_closer([weak = std::weak_ptr(ws), client] {
    client->closed = true;
    client->wake.cancel();
    if (auto s = weak.lock()) s->next_layer().socket().close();
  });
  asio::co_spawn(ctx, ws_reader(ws, client), log_exception);

  ws->text(true);
  while (!client->closed) {
    if (client->queue.empty()) {
      client->wake.expires_at(asio::steady_timer::time_point::max());
      co_await client->wake.async_wait(asio::redirect_error(kAwait, ec));
      continue;
    }
    std::string message = std::move(client->queue.front());
    client->queue.pop_front();
    co_await ws->async_write(asio::buffer(message), asio::redirect_error(kAwait, ec));
    if (ec) break;
  }
  if (client->dropped > 0) {
    spdlog::warn("broker: websocket client fell behind; {} events dropped", client->dropped);
  }
  client->closed = true;
  ws_clients.erase(client);
  closers.erase(closer);
}

BrokerServer::BrokerServer(runtime::IoLoop& loop, BrokerBackend& backend, BrokerConfig config)
    : impl_(std::make_shared<Impl>(loop, backend, std::move(config))) {}

BrokerServer::~BrokerServer() {
  stop();
}

Status BrokerServer::start() {
  auto& impl = *impl_;
  beast::error_code ec;
  auto address = asio::ip::make_address(impl.config.bind_address, ec);
  if (ec) return make_error("BIND_FAILED", "invalid bind address: " + impl.config.bind_address);
  tcp::endpoint endpoint(address, impl.config.port);
  auto where = impl.config.bind_address + ":" + std::to_string(impl.config.port);
  impl.acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl.acceptor.bind(endpoint, ec);
  if (!ec) impl.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    impl.acceptor.close();
    return make_error("BIND_FAILED", "broker: failed to bind to " + where + ": " + ec.message());
  }
  impl.bound_port = impl.acceptor.local_endpoint().port();
  asio::co_spawn(impl.ctx, impl.accept_loop(), log_exception);
  spdlog::info("broker listening on {}:{}", impl.config.bind_address, impl.bound_port);
  return {};
}

void BrokerServer::stop() {
  auto& impl = *impl_;
  if (impl.stopped) return;
  impl.stopped = true;
  beast::error_code ec;
  impl.acceptor.close(ec);
  auto closers = std::move(impl.closers);
  impl.closers.clear();
  for (auto& [id, close] : closers) close();
}

std::uint16_t BrokerServer::port() const {
  return impl_->bound_port;
}

void BrokerServer::publish(std::string event_json) {
  asio::post(impl_->ctx, [impl = impl_, event = std::move(event_json)] {
    for (const auto& client : impl->ws_clients) {
      client->queue.push_back(event);
      if (client->queue.size() > impl->config.websocket_queue) {
        client->queue.pop_front();
        ++client->dropped;
      }
      client->wake.cancel();
    }
  });
}

std::size_t BrokerServer::websocket_clients() const {
  return impl_->ws_clients.size();
}

}  // namespace peat::broker
