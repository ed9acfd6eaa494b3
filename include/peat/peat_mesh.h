/* peat_mesh.h: the C API of peat-mesh, for C programs and for bindings from other languages.
 *
 * A peat_mesh handle wraps one PeatMesh (see include/peat/mesh/peat_mesh.hpp). Every function
 * is safe to call from any thread, returns a peat_status, and never lets a C++ exception out.
 * After a failure, peat_last_error() gives a message for the calling thread.
 * Strings handed out by the API (char** out parameters) are freed with peat_string_free().
 * Callbacks run on the mesh's network thread (StateChanged events of start/stop on the caller's
 * thread); they must return quickly and must not call peat_mesh_stop/destroy.
 */
#ifndef PEAT_PEAT_MESH_H
#define PEAT_PEAT_MESH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum peat_status {
  PEAT_OK = 0,
  PEAT_ERR_INVALID_ARGUMENT = 1, /* a NULL or malformed argument */
  PEAT_ERR_INVALID_CONFIG = 2,
  PEAT_ERR_NOT_RUNNING = 3,
  PEAT_ERR_ALREADY_RUNNING = 4,
  PEAT_ERR_NOT_FOUND = 5,
  PEAT_ERR_TIMEOUT = 6,
  PEAT_ERR_BAD_REQUEST = 7, /* malformed document JSON or query */
  PEAT_ERR_NO_STORE = 8,    /* the mesh has no data_dir */
  PEAT_ERR_IO = 9,          /* bind failure, store I/O */
  PEAT_ERR_INTERNAL = 10
} peat_status;

typedef struct peat_mesh peat_mesh;

/* "PEAT_OK", "PEAT_ERR_NOT_RUNNING", ... */
const char* peat_status_name(peat_status status);
/* Message of the last failure on this thread ("" if none). Valid until the next API call. */
const char* peat_last_error(void);
/* Library version, e.g. "0.1.0". */
const char* peat_version(void);
void peat_string_free(char* s);

/* config_json: a JSON object; every key optional, unknown keys are an error:
 *   node_id, data_dir, formation_secret (base64), quic_bind_host, quic_port,
 *   discovery ("none"|"static"|"mdns"|"kubernetes"), static_peers_file, broker_port,
 *   broker_bind_host, broker_token, ttl_preset, operation_timeout_ms, drain_timeout_ms. */
peat_status peat_mesh_create(const char* config_json, peat_mesh** out);
peat_status peat_mesh_start(peat_mesh* mesh);
peat_status peat_mesh_stop(peat_mesh* mesh);
/* Stops a running mesh, then frees it. NULL is ignored. */
void peat_mesh_destroy(peat_mesh* mesh);

/* "created", "starting", "running", "stopping", "stopped" (static strings). */
const char* peat_mesh_state(const peat_mesh* mesh);
/* Valid while the mesh lives. */
const char* peat_mesh_node_id(const peat_mesh* mesh);
/* Status snapshot as JSON: {"state","node_id","peer_count","uptime_secs","quic_port",
 * "broker_port"}. */
peat_status peat_mesh_status(peat_mesh* mesh, char** out_json);

/* Documents are JSON objects. get: PEAT_ERR_NOT_FOUND when absent; the result has "_id". */
peat_status peat_mesh_put(peat_mesh* mesh, const char* collection, const char* id,
                          const char* json);
peat_status peat_mesh_get(peat_mesh* mesh, const char* collection, const char* id, char** out_json);
/* PEAT_ERR_NOT_FOUND when there was no such document. */
peat_status peat_mesh_delete(peat_mesh* mesh, const char* collection, const char* id);
/* query_json: {"where":[{"field","op","value"}],"order_by","desc","offset","limit"} (NULL or
 * "{}": every document). out_json: a JSON array of documents. */
peat_status peat_mesh_query(peat_mesh* mesh, const char* collection, const char* query_json,
                            char** out_json);

/* Every mesh event as JSON ({"type":"StateChanged"|"PeerConnected"|"PeerDisconnected"|
 * "TopologyChanged"|"SyncEvent",...}). */
typedef void (*peat_event_fn)(const char* event_json, void* user_data);
/* Document changes of one collection (NULL: all). action: "put", "deleted", "expired";
 * from_peer: 1 when the change came from another node. */
typedef void (*peat_document_fn)(const char* collection, const char* id, const char* action,
                                 int from_peer, void* user_data);
peat_status peat_mesh_subscribe_events(peat_mesh* mesh, peat_event_fn fn, void* user_data,
                                       uint64_t* out_subscription);
peat_status peat_mesh_subscribe_documents(peat_mesh* mesh, const char* collection,
                                          peat_document_fn fn, void* user_data,
                                          uint64_t* out_subscription);
/* After it returns, the callback is not called again (unless a call is running on the network
 * thread at that moment). PEAT_ERR_NOT_FOUND for an unknown id. */
peat_status peat_mesh_unsubscribe(peat_mesh* mesh, uint64_t subscription);

#ifdef __cplusplus
}
#endif

#endif /* PEAT_PEAT_MESH_H */
