// A BrokerBackend with fixed data for the router and server tests.
#pragma once

#include <map>
#include <stdexcept>

#include "peat/broker/backend.hpp"

namespace peat::broker::testing {

class FakeBackend : public BrokerBackend {
 public:
  NodeInfo node_info() override { return {"node-a", 42, "0.1.0"}; }
  Readiness readiness() override { return ready; }
  std::vector<PeerSummary> peers() override { return peer_list; }
  std::optional<PeerSummary> peer(const std::string& id) override {
    for (const auto& p : peer_list)
      if (p.id == id) return p;
    return std::nullopt;
  }
  TopologySummary topology() override { return {peer_list.size(), "leader", 1}; }

  std::optional<std::vector<std::string>> list_documents(const std::string& c) override {
    if (throw_on_list) throw std::runtime_error("backend exploded");
    std::vector<std::string> out;
    for (const auto& [key, json] : docs)
      if (key.first == c) out.push_back(json);
    if (out.empty()) return std::nullopt;
    return out;
  }
  std::optional<std::string> get_document(const std::string& c, const std::string& id) override {
    auto it = docs.find({c, id});
    if (it == docs.end()) return std::nullopt;
    return it->second;
  }
  Status put_document(const std::string& c, const std::string& id,
                      const std::string& json) override {
    docs[{c, id}] = json;
    return {};
  }
  Result<bool> delete_document(const std::string& c, const std::string& id) override {
    return docs.erase({c, id}) > 0;
  }
  Result<std::vector<std::string>> query_documents(const std::string& c,
                                                   const std::string& query) override {
    last_query = query;
    if (query.find("\"bad\"") != std::string::npos) {
      return make_error("BAD_REQUEST", "unknown operator: bad");
    }
    auto all = list_documents(c);
    return all ? *all : std::vector<std::string>{};
  }
  Result<OtaStarted> start_ota(const std::string& peer, std::string firmware,
                               std::string version) override {
    if (peer != "lite-0000002A") return make_error("NOT_FOUND", "unknown peer: " + peer);
    ota_firmware = firmware;
    return OtaStarted{7, peer, firmware.size(),
                      static_cast<std::uint16_t>((firmware.size() + 447) / 448), version};
  }
  std::optional<OtaStatus> ota_status(const std::string& peer) override {
    if (peer != "lite-0000002A" || ota_firmware.empty()) return std::nullopt;
    return OtaStatus{7, "transferring", 50, 1, 2, 3};
  }
  std::vector<MetricSample> metrics() override {
    return {{"peat_peers", "Connected peers", "gauge", {{"transport", "quic"}}, 2}};
  }

  Readiness ready;
  std::vector<PeerSummary> peer_list{{"peer-1", true, "healthy", 3}, {"peer-2", false, "dead", {}}};
  std::map<std::pair<std::string, std::string>, std::string> docs;
  std::string last_query;
  std::string ota_firmware;
  bool throw_on_list = false;
};

}  // namespace peat::broker::testing
