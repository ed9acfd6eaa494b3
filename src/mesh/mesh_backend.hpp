// MeshBackend: the BrokerBackend of a PeatMesh (peers, topology, documents, metrics). The broker
// calls it on the mesh's network thread (same IoLoop), where it runs inline; from any other
// thread each call is posted there like a public PeatMesh method. A stopped mesh serves
// nothing (empty lists, NOT_RUNNING).
#pragma once

#include "peat/broker/backend.hpp"
#include "peat/mesh/peat_mesh.hpp"

namespace peat::mesh {

class MeshBackend final : public broker::BrokerBackend {
 public:
  explicit MeshBackend(PeatMesh::Impl& mesh) : mesh_(mesh) {}

  broker::NodeInfo node_info() override;
  broker::Readiness readiness() override;
  std::vector<broker::PeerSummary> peers() override;
  std::optional<broker::PeerSummary> peer(const std::string& id) override;
  broker::TopologySummary topology() override;
  std::optional<std::string> topology_parent() override;
  std::optional<std::vector<std::string>> list_documents(const std::string& collection) override;
  std::optional<std::string> get_document(const std::string& collection,
                                          const std::string& id) override;
  Status put_document(const std::string& collection, const std::string& id,
                      const std::string& json) override;
  Result<bool> delete_document(const std::string& collection, const std::string& id) override;
  Result<std::vector<std::string>> query_documents(const std::string& collection,
                                                   const std::string& query_json) override;
  Result<broker::OtaStarted> start_ota(const std::string& peer_id, std::string firmware,
                                       std::string version) override;
  std::optional<broker::OtaStatus> ota_status(const std::string& peer_id) override;
  Result<broker::BlobSummary> add_blob(const std::string& data, std::optional<std::string> name,
                                       std::optional<std::string> content_type) override;
  Result<std::vector<broker::BlobSummary>> list_blobs() override;
  Result<broker::BlobFile> blob_file(const std::string& hash) override;
  Result<broker::BlobFetchState> fetch_blob(const std::string& hash,
                                            const std::string& peer) override;
  Result<broker::BlobFetchState> blob_status(const std::string& hash) override;
  std::vector<broker::MetricSample> metrics() override;

 private:
  PeatMesh::Impl& mesh_;
};

}  // namespace peat::mesh
