// PeatMesh: the facade a program embeds to run a mesh node, and PeatMeshBuilder that makes one.
//
// Threading: start() creates one network thread running an IoLoop; it owns the QUIC transport,
// discovery, the broker and the document store. Every public method is thread-safe: it posts
// its work to that thread and waits at most config.operation_timeout ("TIMEOUT"). Called from
// the network thread itself (e.g. inside an event callback) a method runs inline, except
// start()/stop(), which fail with "WRONG_THREAD" there.
//
// Event callbacks run on the network thread, except the StateChanged events of start() and
// stop(), which run on the caller's thread. Keep callbacks short; they must not block.
//
// Lock order: state_mu → subscribers_mu. No facade lock is held while calling into a subsystem
// (store, transport, discovery, broker) or a user callback; subsystems are only touched on the
// network thread, so they need no facade lock.
//
// Error codes: NOT_RUNNING "mesh is not running", ALREADY_RUNNING "mesh is already running",
// INVALID_CONFIG "invalid configuration: …", TRANSPORT "transport error: …", TIMEOUT,
// NO_STORE, BAD_REQUEST (malformed JSON or query), WRONG_THREAD, and store errors as they are.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "peat/broker/backend.hpp"
#include "peat/common/bytes.hpp"
#include "peat/common/result.hpp"
#include "peat/mesh/config.hpp"
#include "peat/mesh/events.hpp"
#include "peat/mesh/hierarchy.hpp"

namespace peat::mesh {

Error not_running_error();
Error already_running_error();
Error invalid_config_error(const std::string& message);

using EventCallback = std::function<void(const MeshEvent&)>;

// A blob in this node's store (hash = lowercase hex SHA-256) and the state of a blob here
// ("fetching", "complete", "failed: <CODE>: <reason>"): the broker's shapes.
using BlobInfo = broker::BlobSummary;
using BlobStatus = broker::BlobFetchState;

struct PeerView {
  std::string node_id;  // from discovery; device id hex when unknown
  std::string peer_id;  // device id hex of the peer's QUIC key
  bool connected = false;
  std::string state;  // "healthy", "degraded", "suspect", "dead", "unknown"
  std::optional<std::uint32_t> rtt_ms;
  std::vector<std::string> addresses;
};

class PeatMesh {
 public:
  ~PeatMesh();  // stops the mesh if it runs
  PeatMesh(const PeatMesh&) = delete;
  PeatMesh& operator=(const PeatMesh&) = delete;

  MeshState state() const;
  MeshStatus status() const;
  const MeshConfig& config() const;
  const std::string& node_id() const;
  // Device id (hex) of the device identity, and the QUIC endpoint's peer id ("" without one).
  std::string device_id() const;
  std::string endpoint_id() const;

  // Created/Stopped → Running: opens the store, binds QUIC, starts discovery and the broker.
  // On a failure everything started is torn down, the state returns to Stopped and the
  // error is returned (e.g. BIND_FAILED).
  Status start();
  // Running → Stopped, gracefully: the broker and discovery stop (mDNS goodbyes), queued
  // sends get drain_timeout to flush, connections close (peers see a goodbye), the store is
  // closed after its last write is on disk.
  Status stop();

  // Every event, to every subscriber. Returns an id for unsubscribe().
  std::uint64_t subscribe(EventCallback callback);
  void unsubscribe(std::uint64_t id);

  // Documents as JSON objects (text). Need a running mesh and a store.
  Status put_document(const std::string& collection, const std::string& id, std::string_view json);
  Result<std::optional<std::string>> get_document(const std::string& collection,
                                                  const std::string& id);
  // false: there was no such document.
  Result<bool> delete_document(const std::string& collection, const std::string& id);
  // Every live document of the collection, each with an "_id" field.
  Result<std::vector<std::string>> list_documents(const std::string& collection);
  // {"where":[{"field":"a.b","op":"eq|gt|lt|gte|lte|contains","value":v}],
  //  "order_by":"field","desc":false,"offset":n,"limit":n}.
  Result<std::vector<std::string>> query_documents(const std::string& collection,
                                                   std::string_view query_json);

  std::vector<PeerView> peers();
  // This node's place in the hierarchy (MeshConfig::parent and the peers' announcements).
  Result<HierarchyView> hierarchy();

  // Blobs: a content-addressed store at <data_dir>/blobs (NO_STORE without a data dir), served
  // to connected peers over QUIC (Channel::kBlobs) with the configured transfer profile.
  // Imports run on the caller's thread (hashing a large file does not stall the network).
  Result<BlobInfo> add_blob(ByteView data, std::optional<std::string> name = std::nullopt,
                            std::optional<std::string> content_type = std::nullopt);
  Result<BlobInfo> add_blob_file(const std::filesystem::path& file,
                                 std::optional<std::string> name = std::nullopt,
                                 std::optional<std::string> content_type = std::nullopt);
  Result<std::vector<BlobInfo>> list_blobs();
  // The whole blob in memory (NOT_FOUND); for large blobs use blob_path().
  Result<Bytes> read_blob(const std::string& hash);
  Result<std::filesystem::path> blob_path(const std::string& hash);
  // Starts fetching `hash` from `peer` (node id or endpoint id) and returns at once; poll
  // blob_status(). Already stored: "complete". Already being fetched: the running fetch.
  // Errors: INVALID_HASH, NOT_FOUND (unknown peer), NOT_CONNECTED, NO_STORE, TRANSPORT (no QUIC).
  Result<BlobStatus> fetch_blob(const std::string& hash, const std::string& peer);
  // NOT_FOUND when the blob is neither stored nor being fetched (nor failed to fetch).
  Result<BlobStatus> blob_status(const std::string& hash);

  // The broker's view of this mesh (what the HTTP API serves). Valid while the mesh lives.
  broker::BrokerBackend& broker_backend();

  struct Impl;

 private:
  friend class PeatMeshBuilder;
  explicit PeatMesh(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

class PeatMeshBuilder {
 public:
  PeatMeshBuilder() = default;
  explicit PeatMeshBuilder(MeshConfig config) : config_(std::move(config)) {}

  PeatMeshBuilder& with_config(MeshConfig config);
  // The device identity as a 32-byte Ed25519 seed. Without it: derived from the formation
  // secret and node id (Rust node), else random.
  PeatMeshBuilder& with_device_seed(ByteView seed);
  // from_seed(seed, context) as the Rust builder's with_device_keypair_from_seed; an empty
  // seed makes build() fail with INVALID_CONFIG.
  PeatMeshBuilder& with_device_keypair_from_seed(ByteView seed, std::string_view context);

  // Validates the configuration (INVALID_CONFIG) and generates a UUIDv4 node id if none is set.
  Result<std::unique_ptr<PeatMesh>> build();

 private:
  MeshConfig config_;
  std::optional<Bytes> device_seed_;
  std::optional<Error> error_;
};

}  // namespace peat::mesh
