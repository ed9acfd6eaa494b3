// BrokerServer: the HTTP + WebSocket server (Boost.Beast) in front of a Router, on an IoLoop.
// WebSocket clients on /api/v1/ws receive every published event as one JSON text frame.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "peat/broker/backend.hpp"
#include "peat/broker/router.hpp"
#include "peat/common/result.hpp"
#include "peat/runtime/io_loop.hpp"

namespace peat::broker {

struct BrokerConfig {
  std::string bind_address = "0.0.0.0";
  std::uint16_t port = 8081;  // 0: pick a free port (see BrokerServer::port)
  std::optional<std::string> bearer_token;
  std::size_t max_body_bytes = 4 * 1024 * 1024;
  // Body limit of POST /api/v1/blobs (the blob is held in memory while it is stored).
  std::size_t max_blob_bytes = 64 * 1024 * 1024;
  std::chrono::seconds request_timeout{30};
  std::size_t max_connections = 256;
  // Events a slow WebSocket client may fall behind before the oldest are dropped.
  std::size_t websocket_queue = 1024;
};

class BrokerServer {
 public:
  BrokerServer(runtime::IoLoop& loop, BrokerBackend& backend, BrokerConfig config);
  ~BrokerServer();
  BrokerServer(const BrokerServer&) = delete;
  BrokerServer& operator=(const BrokerServer&) = delete;

  // Binds and starts accepting. Error "BIND_FAILED" with the address and reason.
  Status start();
  // Closes the listener and every connection.
  void stop();
  std::uint16_t port() const;

  // Sends a JSON event to every WebSocket subscriber. Thread-safe.
  void publish(std::string event_json);
  std::size_t websocket_clients() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace peat::broker
