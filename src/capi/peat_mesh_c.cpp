// The C API over PeatMesh: JSON config in, status codes out, no exception crosses the boundary.
#include "peat/peat_mesh.h"

#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "peat/mesh/peat_mesh.hpp"

struct peat_mesh {
  std::unique_ptr<peat::mesh::PeatMesh> mesh;
  std::mutex mu;
  std::set<std::uint64_t> subscriptions;
};

namespace {

using nlohmann::json;

thread_local std::string last_error;

peat_status fail(peat_status status, std::string message) {
  last_error = std::move(message);
  return status;
}

peat_status from_error(const peat::Error& e) {
  static const std::pair<const char*, peat_status> codes[] = {
      {"INVALID_CONFIG", PEAT_ERR_INVALID_CONFIG},
      {"NOT_RUNNING", PEAT_ERR_NOT_RUNNING},
      {"ALREADY_RUNNING", PEAT_ERR_ALREADY_RUNNING},
      {"TIMEOUT", PEAT_ERR_TIMEOUT},
      {"BAD_REQUEST", PEAT_ERR_BAD_REQUEST},
      {"NO_STORE", PEAT_ERR_NO_STORE},
      {"BIND_FAILED", PEAT_ERR_IO},
      {"IO_ERROR", PEAT_ERR_IO},
      {"WRONG_THREAD", PEAT_ERR_INVALID_ARGUMENT}};
  for (const auto& [code, status] : codes)
    if (e.code == code) return fail(status, e.message);
  return fail(PEAT_ERR_INTERNAL, e.to_string());
}

char* dup(const std::string& s) {
  auto* out = static_cast<char*>(std::malloc(s.size() + 1));
  if (out) std::memcpy(out, s.c_str(), s.size() + 1);
  return out;
}

// Runs fn, turning any exception into PEAT_ERR_INTERNAL.
template <typename Fn>
peat_status guarded(Fn&& fn) {
  try {
    last_error.clear();
    return fn();
  } catch (const std::exception& e) {
    return fail(PEAT_ERR_INTERNAL, std::string("internal error: ") + e.what());
  } catch (...) {
    return fail(PEAT_ERR_INTERNAL, "internal error");
  }
}

peat_status config_from_json(const char* text, peat::mesh::MeshConfig& c) {
  auto j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return fail(PEAT_ERR_INVALID_CONFIG, "invalid configuration: config must be a JSON object");
  auto bad = [](const std::string& key, const char* what) {
    return fail(PEAT_ERR_INVALID_CONFIG, "invalid configuration: '" + key + "' must be " + what);
  };
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    const json& v = it.value();
    auto str = [&](std::string& out) {
      if (!v.is_string()) return false;
      out = v.get<std::string>();
      return true;
    };
    auto port = [&](std::uint16_t& out) {
      if (!v.is_number_unsigned() || v.get<std::uint64_t>() > 65535) return false;
      out = static_cast<std::uint16_t>(v.get<std::uint64_t>());
      return true;
    };
    std::string s;
    std::uint16_t p = 0;
    if (k == "node_id") {
      if (!str(s)) return bad(k, "a string");
      c.node_id = s;
    } else if (k == "data_dir") {
      if (!str(s)) return bad(k, "a string");
      c.data_dir = s;
    } else if (k == "formation_secret") {
      if (!str(s)) return bad(k, "a string");
      c.formation_secret = s;
    } else if (k == "quic_bind_host") {
      if (!str(c.quic_bind_host)) return bad(k, "a string");
    } else if (k == "quic_port") {
      if (!port(c.quic_port)) return bad(k, "a port number");
    } else if (k == "discovery") {
      if (!str(s)) return bad(k, "a string");
      auto mode = peat::mesh::parse_discovery_mode(s);
      if (!mode) return from_error(mode.error());
      c.discovery_mode = *mode;
    } else if (k == "static_peers_file") {
      if (!str(s)) return bad(k, "a string");
      c.static_peers_file = s;
    } else if (k == "broker_port") {
      if (!port(p)) return bad(k, "a port number");
      c.broker_port = p;
    } else if (k == "broker_bind_host") {
      if (!str(c.broker_bind_host)) return bad(k, "a string");
    } else if (k == "broker_token") {
      if (!str(s)) return bad(k, "a string");
      c.broker_token = s;
    } else if (k == "ttl_preset") {
      if (!str(c.ttl_preset)) return bad(k, "a string");
    } else if (k == "operation_timeout_ms" || k == "drain_timeout_ms") {
      if (!v.is_number_unsigned()) return bad(k, "a number of milliseconds");
      std::chrono::milliseconds ms(v.get<std::uint64_t>());
      (k == "operation_timeout_ms" ? c.operation_timeout : c.drain_timeout) = ms;
    } else {
      return fail(PEAT_ERR_INVALID_CONFIG, "invalid configuration: unknown key '" + k + "'");
    }
  }
  return PEAT_OK;
}

}  // namespace

extern "C" {

const char* peat_status_name(peat_status status) {
  switch (status) {
    case PEAT_OK:
      return "PEAT_OK";
    case PEAT_ERR_INVALID_ARGUMENT:
      return "PEAT_ERR_INVALID_ARGUMENT";
    case PEAT_ERR_INVALID_CONFIG:
      return "PEAT_ERR_INVALID_CONFIG";
    case PEAT_ERR_NOT_RUNNING:
      return "PEAT_ERR_NOT_RUNNING";
    case PEAT_ERR_ALREADY_RUNNING:
      return "PEAT_ERR_ALREADY_RUNNING";
    case PEAT_ERR_NOT_FOUND:
      return "PEAT_ERR_NOT_FOUND";
    case PEAT_ERR_TIMEOUT:
      return "PEAT_ERR_TIMEOUT";
    case PEAT_ERR_BAD_REQUEST:
      return "PEAT_ERR_BAD_REQUEST";
    case PEAT_ERR_NO_STORE:
      return "PEAT_ERR_NO_STORE";
    case PEAT_ERR_IO:
      return "PEAT_ERR_IO";
    case PEAT_ERR_INTERNAL:
      return "PEAT_ERR_INTERNAL";
  }
  return "PEAT_ERR_UNKNOWN";
}

const char* peat_last_error(void) {
  return last_error.c_str();
}

const char* peat_version(void) {
  return PEAT_CAPI_VERSION;
}

void peat_string_free(char* s) {
  std::free(s);
}

peat_status peat_mesh_create(const char* config_json, peat_mesh** out) {
  return guarded([&] {
    if (!config_json || !out) return fail(PEAT_ERR_INVALID_ARGUMENT, "NULL argument");
    *out = nullptr;
    peat::mesh::MeshConfig config;
    if (auto st = config_from_json(config_json, config); st != PEAT_OK) return st;
    auto built = peat::mesh::PeatMeshBuilder().with_config(config).build();
    if (!built) return from_error(built.error());
    auto handle = std::make_unique<peat_mesh>();
    handle->mesh = std::move(built.value());
    *out = handle.release();
    return PEAT_OK;
  });
}

peat_status peat_mesh_start(peat_mesh* mesh) {
  return guarded([&] {
    if (!mesh) return fail(PEAT_ERR_INVALID_ARGUMENT, "NULL mesh");
    auto st = mesh->mesh->start();
    return st ? PEAT_OK : from_error(st.error());
  });
}

peat_status peat_mesh_stop(peat_mesh* mesh) {
  return guarded([&] {
    if (!mesh) return fail(PEAT_ERR_INVALID_ARGUMENT, "NULL mesh");
    auto st = mesh->mesh->stop();
    return st ? PEAT_OK : from_error(st.error());
  });
}

void peat_mesh_destroy(peat_mesh* mesh) {
  (void)guarded([&] {
    delete mesh;
    return PEAT_OK;
  });
}

const char* peat_mesh_state(const peat_mesh* mesh) {
  if (!mesh) return "";
  return peat::mesh::to_string(mesh->mesh->state());
}

const char* peat_mesh_node_id(const peat_mesh* mesh) {
  if (!mesh) return "";
  return mesh->mesh->node_id().c_str();
}

peat_status peat_mesh_status(peat_mesh* mesh, char** out_json) {
  return guarded([&] {
    if (!mesh || !out_json) return fail(PEAT_ERR_INVALID_ARGUMENT, "NULL argument");
    auto s = mesh->mesh->status();
    json j = {{"state", peat::mesh::to_string(s.state)},
              {"node_id", s.node_id},
              {"peer_count", s.peer_count},
              {"uptime_secs", s.uptime.count()},
              {"quic_port", s.quic_port},
              {"broker_port", s.broker_port}};
    *out_json = dup(j.dump());
    return *out_json ? PEAT_OK : fail(PEAT_ERR_INTERNAL, "out of memory");
  });
}

peat_status peat_mesh_put(peat_mesh* mesh, const char* collection, const char* id,
                          const char* json_text) {
  return guarded([&] {
    if (!mesh || !collection || !id || !json_text)
      return fail(PEAT_ERR_INVALID_ARGUMENT, "NULL argument");
    auto st = mesh->mesh->put_document(collection, id, json_text);
    return st ? PEAT_OK : from_error(st.error());
  });
}

peat_status peat_mesh_get(peat_mesh* mesh, const char* collection, const char* id,
                          char** out_json) {
  return guarded([&] {
    if (!mesh || !collection || !id || !out_json)
      return fail(PEAT_ERR_INVALID_ARGUMENT, "NULL argument");
    *out_json = nullptr;
    auto r = mesh->mesh->get_document(collection, id);
    if (!r) return from_error(r.error());
    if (!*r)
      return fail(PEAT_ERR_NOT_FOUND, std::string("document not found: ") + collection + "/" + id);
    *out_json = dup(**r);
    return *out_json ? PEAT_OK : fail(PEAT_ERR_INTERNAL, "out of memory");
  });
}

peat_status peat_mesh_delete(peat_mesh* mesh, const char* collection, const char* id) {
  return guarded([&] {
    if (!mesh || !collection || !id) return fail(PEAT_ERR_INVALID_ARGUMENT, "NULL argument");
    auto r = mesh->mesh->delete_document(collection, id);
    if (!r) return from_error(r.error());
    if (!*r)
      return fail(PEAT_ERR_NOT_FOUND, std::string("document not found: ") + collection + "/" + id);
    return PEAT_OK;
  });
}

peat_status peat_mesh_query(peat_mesh* mesh, const char* collection, const char* query_json,
                            char** out_json) {
  return guarded([&] {
    if (!mesh || !collection || !out_json) return fail(PEAT_ERR_INVALID_ARGUMENT, "NULL argument");
    *out_json = nullptr;
    auto r = mesh->mesh->query_documents(collection, query_json ? query_json : "{}");
    if (!r) return from_error(r.error());
    json arr = json::array();
    for (const auto& d : *r) arr.push_back(json::parse(d));
    *out_json = dup(arr.dump());
    return *out_json ? PEAT_OK : fail(PEAT_ERR_INTERNAL, "out of memory");
  });
}

peat_status peat_mesh_subscribe_events(peat_mesh* mesh, peat_event_fn fn, void* user_data,
                                       uint64_t* out_subscription) {
  return guarded([&] {
    if (!mesh || !fn || !out_subscription) return fail(PEAT_ERR_INVALID_ARGUMENT, "NULL argument");
    auto id = mesh->mesh->subscribe([fn, user_data](const peat::mesh::MeshEvent& ev) {
      try {
        fn(peat::mesh::to_json(ev).c_str(), user_data);
      } catch (...) {
      }
    });
    std::lock_guard lock(mesh->mu);
    mesh->subscriptions.insert(id);
    *out_subscription = id;
    return PEAT_OK;
  });
}

peat_status peat_mesh_subscribe_documents(peat_mesh* mesh, const char* collection,
                                          peat_document_fn fn, void* user_data,
                                          uint64_t* out_subscription) {
  return guarded([&] {
    if (!mesh || !fn || !out_subscription) return fail(PEAT_ERR_INVALID_ARGUMENT, "NULL argument");
    std::optional<std::string> filter;
    if (collection) filter = collection;
    auto id = mesh->mesh->subscribe([fn, user_data, filter](const peat::mesh::MeshEvent& ev) {
      const auto* d = std::get_if<peat::mesh::DocumentChanged>(&ev);
      if (!d || (filter && *filter != d->collection)) return;
      try {
        fn(d->collection.c_str(), d->id.c_str(), peat::mesh::to_string(d->action),
           d->from_peer ? 1 : 0, user_data);
      } catch (...) {
      }
    });
    std::lock_guard lock(mesh->mu);
    mesh->subscriptions.insert(id);
    *out_subscription = id;
    return PEAT_OK;
  });
}

peat_status peat_mesh_unsubscribe(peat_mesh* mesh, uint64_t subscription) {
  return guarded([&] {
    if (!mesh) return fail(PEAT_ERR_INVALID_ARGUMENT, "NULL mesh");
    {
      std::lock_guard lock(mesh->mu);
      if (mesh->subscriptions.erase(subscription) == 0)
        return fail(PEAT_ERR_NOT_FOUND, "no such subscription");
    }
    mesh->mesh->unsubscribe(subscription);
    return PEAT_OK;
  });
}

}  // extern "C"
