// A BrokerBackend with fixed data for the router and server tests.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>

#include "peat/broker/backend.hpp"
#include "peat/common/bytes.hpp"
#include "peat/common/sha256.hpp"

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
  // Blobs in memory; blob_file writes the content to a file in a temporary folder.
  Result<BlobSummary> add_blob(const std::string& data, std::optional<std::string> name,
                               std::optional<std::string> type) override {
    auto digest =
        Sha256::digest(ByteView(reinterpret_cast<const std::uint8_t*>(data.data()), data.size()));
    BlobSummary b{to_hex(ByteView(digest.data(), digest.size())), data.size(), name, type};
    blobs[b.hash] = {b, data};
    return b;
  }
  Result<std::vector<BlobSummary>> list_blobs() override {
    std::vector<BlobSummary> out;
    for (const auto& [hash, entry] : blobs) out.push_back(entry.first);
    return out;
  }
  Result<BlobFile> blob_file(const std::string& hash) override {
    auto it = blobs.find(hash);
    if (it == blobs.end()) return make_error("NOT_FOUND", "blob not found: " + hash);
    if (blob_dir.empty()) {
      char tmpl[] = "/tmp/peat_broker_blob_XXXXXX";
      blob_dir = ::mkdtemp(tmpl);
    }
    auto path = blob_dir / hash;
    std::ofstream(path, std::ios::binary) << it->second.second;
    return BlobFile{path.string(), it->second.first};
  }
  Result<BlobFetchState> fetch_blob(const std::string& hash, const std::string& peer) override {
    if (peer == "peer-2") return make_error("NOT_CONNECTED", "peer not connected: " + peer);
    if (peer != "peer-1") return make_error("NOT_FOUND", "unknown peer: " + peer);
    fetching[hash] = peer;
    return BlobFetchState{hash, peer, "fetching", 0, 0};
  }
  Result<BlobFetchState> blob_status(const std::string& hash) override {
    if (auto it = blobs.find(hash); it != blobs.end())
      return BlobFetchState{hash, "", "complete", it->second.first.size, it->second.first.size};
    if (auto it = fetching.find(hash); it != fetching.end())
      return BlobFetchState{hash, it->second, "fetching", 10, 100};
    return make_error("NOT_FOUND", "blob not found: " + hash);
  }
  ~FakeBackend() override {
    std::error_code ec;
    if (!blob_dir.empty()) std::filesystem::remove_all(blob_dir, ec);
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
  std::map<std::string, std::pair<BlobSummary, std::string>> blobs;
  std::map<std::string, std::string> fetching;
  std::filesystem::path blob_dir;
};

}  // namespace peat::broker::testing
