// A BrokerServer on 127.0.0.1 (ephemeral port) over an in-memory mesh, driven by a Node test.
//
// Usage: ui_demo_server [--token TOKEN]
// Prints "port N" as its first stdout line, then reads one command per stdin line and answers
// each with one line ("ok", "clients N" or "error <why>"), so the test knows when it took effect:
//   peer add ID STATE [connected|disconnected] [RTT_MS]   add or replace a peer
//   peer state ID STATE                                    change a peer's state
//   peer connected ID true|false                           change a peer's link
//   peer remove ID
//   event JSON                                             publish JSON to every WebSocket client
//   clients                                                number of WebSocket subscribers
//   quit                                                   stop the server and exit (so does EOF)
// Logs go to stderr.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <future>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "peat/broker/server.hpp"

namespace {

using peat::broker::PeerSummary;

// Peers change from the stdin thread while the server reads them on the loop thread.
class DemoBackend final : public peat::broker::BrokerBackend {
 public:
  peat::broker::NodeInfo node_info() override { return {"demo-node-0001", 7, "0.1.0-ui"}; }

  std::vector<PeerSummary> peers() override {
    std::lock_guard lock(mutex_);
    return peers_;
  }
  std::optional<PeerSummary> peer(const std::string& id) override {
    std::lock_guard lock(mutex_);
    for (const auto& p : peers_)
      if (p.id == id) return p;
    return std::nullopt;
  }
  peat::broker::TopologySummary topology() override {
    std::lock_guard lock(mutex_);
    return {peers_.size(), "leader", 1};
  }

  std::optional<std::vector<std::string>> list_documents(const std::string& collection) override {
    std::lock_guard lock(mutex_);
    auto it = docs_.find(collection);
    if (it == docs_.end()) return std::nullopt;
    std::vector<std::string> out;
    for (const auto& [id, json] : it->second) out.push_back(json);
    return out;
  }
  std::optional<std::string> get_document(const std::string& collection,
                                          const std::string& id) override {
    std::lock_guard lock(mutex_);
    auto c = docs_.find(collection);
    if (c == docs_.end()) return std::nullopt;
    auto d = c->second.find(id);
    if (d == c->second.end()) return std::nullopt;
    return d->second;
  }
  peat::Status put_document(const std::string& collection, const std::string& id,
                            const std::string& json) override {
    std::lock_guard lock(mutex_);
    docs_[collection][id] = json;
    return {};
  }
  peat::Result<bool> delete_document(const std::string& collection,
                                     const std::string& id) override {
    std::lock_guard lock(mutex_);
    auto c = docs_.find(collection);
    return c != docs_.end() && c->second.erase(id) > 0;
  }
  peat::Result<std::vector<std::string>> query_documents(const std::string&,
                                                         const std::string&) override {
    return peat::make_error("UNSUPPORTED", "the UI demo backend does not evaluate queries");
  }

  void upsert(PeerSummary peer) {
    std::lock_guard lock(mutex_);
    for (auto& p : peers_) {
      if (p.id == peer.id) {
        p = std::move(peer);
        return;
      }
    }
    peers_.push_back(std::move(peer));
  }
  // Applies `change` to peer `id`; false when there is no such peer.
  template <typename F>
  bool update(const std::string& id, F change) {
    std::lock_guard lock(mutex_);
    for (auto& p : peers_) {
      if (p.id == id) {
        change(p);
        return true;
      }
    }
    return false;
  }
  bool remove(const std::string& id) {
    std::lock_guard lock(mutex_);
    return std::erase_if(peers_, [&](const PeerSummary& p) { return p.id == id; }) > 0;
  }

 private:
  std::mutex mutex_;
  std::vector<PeerSummary> peers_{
      {"peer-alpha", true, "healthy", 4},
      {"peer-bravo", true, "degraded", 35},
      {"peer-charlie", true, "suspect", 180},
      {"peer-delta", false, "dead", std::nullopt},
  };
  std::map<std::string, std::map<std::string, std::string>> docs_;
};

void reply(const std::string& line) {
  std::cout << line << '\n' << std::flush;
}

bool parse_bool(const std::string& s, bool& out) {
  if (s == "true" || s == "connected") {
    out = true;
    return true;
  }
  if (s == "false" || s == "disconnected") {
    out = false;
    return true;
  }
  return false;
}

std::string handle_peer(DemoBackend& backend, std::istringstream& in) {
  std::string verb, id, arg;
  in >> verb >> id;
  if (id.empty()) return "error peer needs a verb and an id";
  if (verb == "remove") return backend.remove(id) ? "ok" : "error no such peer: " + id;
  in >> arg;
  if (arg.empty()) return "error peer " + verb + " needs an argument";
  if (verb == "add") {
    PeerSummary p{id, true, arg, std::nullopt};
    std::string link;
    if (in >> link && !parse_bool(link, p.connected)) return "error bad link: " + link;
    std::uint64_t rtt = 0;
    if (in >> rtt) p.rtt_ms = rtt;
    backend.upsert(std::move(p));
    return "ok";
  }
  bool found = false;
  if (verb == "state") {
    found = backend.update(id, [&](PeerSummary& p) { p.state = arg; });
  } else if (verb == "connected") {
    bool value = false;
    if (!parse_bool(arg, value)) return "error bad link: " + arg;
    found = backend.update(id, [&](PeerSummary& p) { p.connected = value; });
  } else {
    return "error unknown peer verb: " + verb;
  }
  return found ? "ok" : "error no such peer: " + id;
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_default_logger(spdlog::stderr_color_mt("ui_demo_server"));
  peat::broker::BrokerConfig config;
  config.bind_address = "127.0.0.1";
  config.port = 0;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--token" && i + 1 < argc) {
      config.bearer_token = argv[++i];
    } else {
      std::cerr << "usage: " << argv[0] << " [--token TOKEN]\n";
      return 2;
    }
  }

  DemoBackend backend;
  peat::runtime::IoLoop loop;
  peat::broker::BrokerServer server(loop, backend, config);
  if (auto st = server.start(); !st.ok()) {
    std::cerr << st.error().message << '\n';
    return 1;
  }
  reply("port " + std::to_string(server.port()));
  std::thread io([&] { loop.run(); });

  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::string command;
    in >> command;
    if (command == "quit") break;
    if (command == "peer") {
      reply(handle_peer(backend, in));
    } else if (command == "event") {
      auto start = line.find_first_not_of(' ', command.size());
      if (start == std::string::npos) {
        reply("error event needs JSON");
        continue;
      }
      server.publish(line.substr(start));
      reply("ok");
    } else if (command == "clients") {
      // The subscriber set lives on the loop thread; ask there.
      std::promise<std::size_t> count;
      loop.post([&] { count.set_value(server.websocket_clients()); });
      reply("clients " + std::to_string(count.get_future().get()));
    } else if (!command.empty()) {
      reply("error unknown command: " + command);
    }
  }

  std::promise<void> stopped;
  loop.post([&] {
    server.stop();
    loop.stop();
    stopped.set_value();
  });
  stopped.get_future().wait();
  io.join();
  reply("bye");
  return 0;
}
