// BrokerBackend: what the HTTP/WebSocket broker asks of the node. The mesh facade implements it;
// tests implement it with fixed data. Documents travel as JSON text so the broker needs no store.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "peat/common/result.hpp"

namespace peat::broker {

struct NodeInfo {
  std::string node_id;
  std::uint64_t uptime_secs = 0;
  std::string version;
};

struct PeerSummary {
  std::string id;
  bool connected = false;
  std::string state;  // "healthy", "degraded", "suspect", "dead"
  std::optional<std::uint64_t> rtt_ms;
};

struct TopologySummary {
  std::size_t peer_count = 0;
  std::string role;
  std::uint32_t hierarchy_level = 0;
};

struct ReadinessCheck {
  std::string name;
  bool ready = true;
  std::optional<std::string> message;
};

struct Readiness {
  bool ready = true;
  std::vector<ReadinessCheck> checks;
};

// A firmware push to a Peat-Lite device, as started by POST /api/v1/ota/{peer_id}.
struct OtaStarted {
  std::uint16_t session_id = 0;
  std::string peer_id;
  std::size_t firmware_size = 0;
  std::uint16_t total_chunks = 0;
  std::string version;
};

struct OtaStatus {
  std::uint16_t session_id = 0;
  std::string state;  // "offered", "transferring", "waiting_result", "complete", "failed: <why>"
  std::uint8_t progress_percent = 0;
  std::uint16_t chunks_sent = 0;  // chunks acknowledged
  std::uint16_t total_chunks = 0;
  std::uint64_t elapsed_secs = 0;
};

// A blob in the node's content-addressed store (/api/v1/blobs).
struct BlobSummary {
  std::string hash;  // lowercase hex SHA-256 of the content
  std::uint64_t size = 0;
  std::optional<std::string> name;
  std::optional<std::string> content_type;
};

// A stored blob's file, which the server streams (GET /api/v1/blobs/{hash}).
struct BlobFile {
  std::string path;
  BlobSummary blob;
};

// A blob fetched from a peer (POST /api/v1/blobs/{hash}/fetch, GET .../status).
struct BlobFetchState {
  std::string hash;
  std::string peer;   // who it is fetched from ("" for a blob added on this node)
  std::string state;  // "fetching", "complete", "failed: <CODE>: <reason>"
  std::uint64_t bytes_done = 0;
  std::uint64_t total = 0;  // 0 until the peer's offer arrived
};

// One Prometheus sample; samples with the same name share HELP and TYPE.
struct MetricSample {
  std::string name;
  std::string help;
  std::string type;  // "counter" or "gauge"
  std::vector<std::pair<std::string, std::string>> labels;
  double value = 0;
};

class BrokerBackend {
 public:
  virtual ~BrokerBackend() = default;

  virtual NodeInfo node_info() = 0;
  virtual Readiness readiness() { return {}; }
  virtual std::vector<PeerSummary> peers() = 0;
  virtual std::optional<PeerSummary> peer(const std::string& id) = 0;
  virtual TopologySummary topology() = 0;
  // Node id of this node's parent in the hierarchy (none: root or flat). GET /api/v1/topology
  // adds it as "parent" only when set, so the Rust fields stay as they are.
  virtual std::optional<std::string> topology_parent() { return std::nullopt; }

  // JSON text of each document (objects get an "_id" field); nullopt: no such collection.
  virtual std::optional<std::vector<std::string>> list_documents(const std::string& collection) = 0;
  virtual std::optional<std::string> get_document(const std::string& collection,
                                                  const std::string& id) = 0;
  // Creates or replaces from a JSON object. Errors with code "BAD_REQUEST" become 400.
  virtual Status put_document(const std::string& collection, const std::string& id,
                              const std::string& json) = 0;
  // false: there was no such document.
  virtual Result<bool> delete_document(const std::string& collection, const std::string& id) = 0;
  // `query_json` is {"where":[{"field":..,"op":..,"value":..}],"limit":n}; returns matching docs.
  virtual Result<std::vector<std::string>> query_documents(const std::string& collection,
                                                           const std::string& query_json) = 0;

  // Errors: "BAD_REQUEST" → 400, "NOT_FOUND" (unknown peer) → 404, "UNSUPPORTED" → 501, else 500.
  virtual Result<OtaStarted> start_ota(const std::string& peer_id, std::string firmware,
                                       std::string version) {
    (void)peer_id, (void)firmware, (void)version;
    return make_error("UNSUPPORTED", "OTA is not available on this node");
  }
  virtual std::optional<OtaStatus> ota_status(const std::string& peer_id) {
    (void)peer_id;
    return std::nullopt;
  }

  // Blobs. `hash` is always 64 hex characters (the router checks). Errors: "BAD_REQUEST" → 400,
  // "NOT_FOUND" → 404, "NOT_CONNECTED" (the peer is known but not connected) → 409,
  // "UNSUPPORTED" → 501, else 500.
  virtual Result<BlobSummary> add_blob(const std::string& data, std::optional<std::string> name,
                                       std::optional<std::string> content_type) {
    (void)data, (void)name, (void)content_type;
    return make_error("UNSUPPORTED", "blobs are not available on this node");
  }
  virtual Result<std::vector<BlobSummary>> list_blobs() {
    return make_error("UNSUPPORTED", "blobs are not available on this node");
  }
  virtual Result<BlobFile> blob_file(const std::string& hash) {
    (void)hash;
    return make_error("UNSUPPORTED", "blobs are not available on this node");
  }
  // Starts fetching `hash` from `peer` (or reports the fetch already running / the blob already
  // here).
  virtual Result<BlobFetchState> fetch_blob(const std::string& hash, const std::string& peer) {
    (void)hash, (void)peer;
    return make_error("UNSUPPORTED", "blobs are not available on this node");
  }
  // NOT_FOUND: neither stored nor being fetched.
  virtual Result<BlobFetchState> blob_status(const std::string& hash) {
    (void)hash;
    return make_error("UNSUPPORTED", "blobs are not available on this node");
  }

  virtual std::vector<MetricSample> metrics() { return {}; }
};

}  // namespace peat::broker
