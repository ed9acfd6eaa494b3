/* A C program exercising include/peat/peat_mesh.h: configuration errors, the lifecycle, document
 * put/get/query/delete, event and document callbacks, error codes and messages. */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "peat/peat_mesh.h"

static int passed = 0;
static int failed = 0;

#define CHECK(cond)                                                                            \
  do {                                                                                         \
    if (cond) {                                                                                \
      ++passed;                                                                                \
    } else {                                                                                   \
      ++failed;                                                                                \
      fprintf(stderr, "%s:%d: CHECK failed: %s (last error: %s)\n", __FILE__, __LINE__, #cond, \
              peat_last_error());                                                              \
    }                                                                                          \
  } while (0)

struct counts {
  int events;
  int state_events;
  int puts;
  int deletes;
  char last_id[64];
};

static void on_event(const char* event_json, void* user) {
  struct counts* c = (struct counts*)user;
  c->events++;
  if (strstr(event_json, "\"StateChanged\"")) c->state_events++;
}

static void on_document(const char* collection, const char* id, const char* action, int from_peer,
                        void* user) {
  struct counts* c = (struct counts*)user;
  (void)collection;
  if (from_peer) return;
  if (strcmp(action, "put") == 0) c->puts++;
  if (strcmp(action, "deleted") == 0) c->deletes++;
  snprintf(c->last_id, sizeof c->last_id, "%s", id);
}

int main(void) {
  char dir[] = "/tmp/peat_capi_XXXXXX";
  char config[512];
  peat_mesh* mesh = NULL;
  char* out = NULL;
  struct counts events = {0, 0, 0, 0, ""};
  struct counts docs = {0, 0, 0, 0, ""};
  uint64_t ev_sub = 0;
  uint64_t doc_sub = 0;

  CHECK(mkdtemp(dir) != NULL);
  CHECK(strcmp(peat_status_name(PEAT_ERR_NOT_FOUND), "PEAT_ERR_NOT_FOUND") == 0);
  CHECK(strlen(peat_version()) > 0);

  /* Configuration errors. */
  CHECK(peat_mesh_create("not json", &mesh) == PEAT_ERR_INVALID_CONFIG);
  CHECK(mesh == NULL);
  CHECK(strstr(peat_last_error(), "invalid configuration") != NULL);
  CHECK(peat_mesh_create("{\"colour\":\"red\"}", &mesh) == PEAT_ERR_INVALID_CONFIG);
  CHECK(strstr(peat_last_error(), "colour") != NULL);
  CHECK(peat_mesh_create("{\"discovery\":\"carrier-pigeon\"}", &mesh) == PEAT_ERR_INVALID_CONFIG);
  CHECK(peat_mesh_create("{\"discovery\":\"static\"}", &mesh) == PEAT_ERR_INVALID_CONFIG);
  CHECK(peat_mesh_create("{\"quic_port\":70000}", &mesh) == PEAT_ERR_INVALID_CONFIG);
  CHECK(peat_mesh_create(NULL, &mesh) == PEAT_ERR_INVALID_ARGUMENT);

  /* A local mesh (no formation secret: no networking) with a store. */
  snprintf(config, sizeof config,
           "{\"node_id\":\"capi-node\",\"data_dir\":\"%s\",\"drain_timeout_ms\":0}", dir);
  CHECK(peat_mesh_create(config, &mesh) == PEAT_OK);
  CHECK(mesh != NULL);
  if (!mesh) return 1;
  CHECK(strcmp(peat_mesh_state(mesh), "created") == 0);
  CHECK(strcmp(peat_mesh_node_id(mesh), "capi-node") == 0);
  CHECK(peat_mesh_put(mesh, "notes", "n1", "{\"a\":1}") == PEAT_ERR_NOT_RUNNING);
  CHECK(peat_mesh_stop(mesh) == PEAT_ERR_NOT_RUNNING);

  CHECK(peat_mesh_subscribe_events(mesh, on_event, &events, &ev_sub) == PEAT_OK);
  CHECK(peat_mesh_subscribe_documents(mesh, "notes", on_document, &docs, &doc_sub) == PEAT_OK);
  CHECK(peat_mesh_start(mesh) == PEAT_OK);
  CHECK(strcmp(peat_mesh_state(mesh), "running") == 0);
  CHECK(peat_mesh_start(mesh) == PEAT_ERR_ALREADY_RUNNING);
  CHECK(events.state_events == 2); /* starting, running */

  CHECK(peat_mesh_status(mesh, &out) == PEAT_OK);
  CHECK(out && strstr(out, "\"state\":\"running\"") != NULL);
  peat_string_free(out);
  out = NULL;

  /* Documents. */
  CHECK(peat_mesh_put(mesh, "notes", "n1", "{\"title\":\"hello\",\"rank\":3}") == PEAT_OK);
  CHECK(peat_mesh_put(mesh, "notes", "n2", "{\"title\":\"world\",\"rank\":7}") == PEAT_OK);
  CHECK(peat_mesh_put(mesh, "other", "x", "{\"v\":true}") == PEAT_OK);
  CHECK(peat_mesh_put(mesh, "notes", "bad", "[1,2]") == PEAT_ERR_BAD_REQUEST);
  CHECK(peat_mesh_put(mesh, "notes", "bad", "{") == PEAT_ERR_BAD_REQUEST);
  CHECK(peat_mesh_put(mesh, NULL, "x", "{}") == PEAT_ERR_INVALID_ARGUMENT);

  CHECK(peat_mesh_get(mesh, "notes", "n1", &out) == PEAT_OK);
  CHECK(out && strstr(out, "\"title\":\"hello\"") && strstr(out, "\"_id\":\"n1\""));
  peat_string_free(out);
  out = NULL;
  CHECK(peat_mesh_get(mesh, "notes", "missing", &out) == PEAT_ERR_NOT_FOUND);
  CHECK(out == NULL);
  CHECK(strstr(peat_last_error(), "notes/missing") != NULL);

  CHECK(peat_mesh_query(mesh, "notes",
                        "{\"where\":[{\"field\":\"rank\",\"op\":\"gt\",\"value\":5}]}",
                        &out) == PEAT_OK);
  CHECK(out && strstr(out, "\"n2\"") && !strstr(out, "\"n1\""));
  peat_string_free(out);
  out = NULL;
  CHECK(peat_mesh_query(mesh, "notes", NULL, &out) == PEAT_OK);
  CHECK(out && strstr(out, "\"n1\"") && strstr(out, "\"n2\""));
  peat_string_free(out);
  out = NULL;
  CHECK(peat_mesh_query(mesh, "notes",
                        "{\"where\":[{\"field\":\"rank\",\"op\":\"near\",\"value\":1}]}",
                        &out) == PEAT_ERR_BAD_REQUEST);

  CHECK(peat_mesh_delete(mesh, "notes", "n1") == PEAT_OK);
  CHECK(peat_mesh_delete(mesh, "notes", "n1") == PEAT_ERR_NOT_FOUND);
  CHECK(peat_mesh_get(mesh, "notes", "n1", &out) == PEAT_ERR_NOT_FOUND);

  /* Document callbacks saw only "notes": two puts and one delete. */
  CHECK(docs.puts == 2);
  CHECK(docs.deletes == 1);
  CHECK(strcmp(docs.last_id, "n1") == 0);
  CHECK(peat_mesh_unsubscribe(mesh, doc_sub) == PEAT_OK);
  CHECK(peat_mesh_unsubscribe(mesh, doc_sub) == PEAT_ERR_NOT_FOUND);
  CHECK(peat_mesh_put(mesh, "notes", "n3", "{}") == PEAT_OK);
  CHECK(docs.puts == 2);

  CHECK(peat_mesh_stop(mesh) == PEAT_OK);
  CHECK(strcmp(peat_mesh_state(mesh), "stopped") == 0);
  CHECK(events.state_events == 4); /* + stopping, stopped */

  /* Restart: the documents persisted. */
  CHECK(peat_mesh_start(mesh) == PEAT_OK);
  CHECK(peat_mesh_get(mesh, "notes", "n2", &out) == PEAT_OK);
  peat_string_free(out);
  out = NULL;
  CHECK(peat_mesh_unsubscribe(mesh, ev_sub) == PEAT_OK);
  peat_mesh_destroy(mesh); /* stops it */
  peat_mesh_destroy(NULL);

  {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
  }
  printf("capi: %d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
