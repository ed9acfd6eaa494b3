#include "broker/static_content.hpp"

namespace peat::broker {

// The page reads the bearer token, if any, from the URL fragment (#token=...), never the server.
const std::string_view kTopologyPage = R"html(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>peat-mesh topology</title>
<style>
  body { font-family: sans-serif; margin: 0; background: #10161d; color: #dde6ee; }
  header { padding: 12px 20px; background: #18212b; display: flex; gap: 24px; align-items: baseline; }
  h1 { font-size: 18px; margin: 0; }
  #status { font-size: 13px; color: #8fa3b5; }
  main { display: flex; }
  svg { flex: 1; height: 560px; }
  table { border-collapse: collapse; margin: 16px; font-size: 13px; min-width: 340px;
          align-self: flex-start; }
  #node { font-family: monospace; font-size: 13px; }
  th, td { text-align: left; padding: 4px 10px; border-bottom: 1px solid #2a3846; }
  .healthy { fill: #3fb950; color: #3fb950; stroke: #3fb950; }
  .degraded { fill: #d29922; color: #d29922; stroke: #d29922; }
  .suspect { fill: #db6d28; color: #db6d28; stroke: #db6d28; }
  .dead, .disconnected { fill: #f85149; color: #f85149; stroke: #f85149; }
  .self { fill: #58a6ff; }
  /* A halo in the background colour keeps labels readable where they cross a line. */
  text { fill: #dde6ee; font-size: 12px; stroke: #10161d; stroke-width: 4px;
         stroke-linejoin: round; paint-order: stroke; }
</style>
</head>
<body>
<header><h1>peat-mesh</h1><span id="node">…</span><span id="role"></span>
<span id="status">connecting…</span></header>
<main>
<svg id="graph" viewBox="0 0 600 560" role="img" aria-label="mesh topology"></svg>
<table><thead><tr><th>peer</th><th>state</th><th>rtt</th></tr></thead><tbody id="peers"></tbody></table>
</main>
<script>
const token = new URLSearchParams(location.hash.slice(1)).get('token');
const headers = token ? { Authorization: 'Bearer ' + token } : {};
const statusEl = document.getElementById('status');
let unauthorized = false;
async function get(path) {
  const r = await fetch(path, { headers });
  if (!r.ok) throw Object.assign(new Error(path + ': HTTP ' + r.status), { status: r.status });
  return r.json();
}
function showError(e) {
  if (e.status === 401) {
    unauthorized = true;
    statusEl.textContent = 'unauthorized: open the page with #token=<bearer token>';
  } else {
    statusEl.textContent = 'error: ' + e.message;
  }
}
const short = (id) => id.length > 12 ? id.slice(0, 12) + '…' : id;
const svgNS = 'http://www.w3.org/2000/svg';
function el(name, attrs, text) {
  const e = document.createElementNS(svgNS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}
async function draw() {
  const [node, peers, topo] = await Promise.all([get('/api/v1/node'), get('/api/v1/peers'),
                                                 get('/api/v1/topology')]);
  document.getElementById('node').textContent = 'node ' + node.node_id;
  document.getElementById('role').textContent = 'role ' + topo.role + ' · level ' + topo.hierarchy_level +
      (topo.parent ? ' · parent ' + topo.parent : '');
  const svg = document.getElementById('graph');
  svg.replaceChildren();
  const cx = 300, cy = 280, r = 200, n = peers.peers.length;
  peers.peers.forEach((p, i) => {
    const a = 2 * Math.PI * i / Math.max(n, 1);
    const x = cx + r * Math.cos(a), y = cy + r * Math.sin(a);
    const cls = p.connected ? p.state : 'disconnected';
    svg.append(el('line', { x1: cx, y1: cy, x2: x, y2: y, class: cls, 'stroke-width': 2 }));
    svg.append(el('circle', { cx: x, cy: y, r: 14, class: cls, 'data-peer': p.id }));
    const left = Math.cos(a) < -0.3;
    svg.append(el('text', { x: left ? x - 18 : x + 18, y: y + 4,
                            'text-anchor': left ? 'end' : 'start' }, short(p.id)));
  });
  svg.append(el('circle', { cx, cy, r: 20, class: 'self' }));
  svg.append(el('text', { x: cx, y: cy + 38, 'text-anchor': 'middle' }, short(node.node_id)));
  const body = document.getElementById('peers');
  body.replaceChildren(...peers.peers.map((p) => {
    const tr = document.createElement('tr');
    const cls = p.connected ? p.state : 'disconnected';
    tr.innerHTML = '<td></td><td class="' + cls + '"></td><td></td>';
    tr.children[0].textContent = short(p.id);
    tr.children[1].textContent = cls;
    tr.children[2].textContent = p.rtt_ms === null ? '–' : p.rtt_ms + ' ms';
    return tr;
  }));
  document.body.dataset.peers = String(peers.count);
}
// One redraw at a time: events arriving meanwhile cause exactly one more, so a burst of events
// costs two redraws and an older answer never overwrites a newer one.
let running = null;
let again = false;
function refresh() {
  if (running) {
    again = true;
    return running;
  }
  running = (async () => {
    do {
      again = false;
      await draw();
    } while (again);
  })().finally(() => { running = null; });
  return running;
}
function connect() {
  const proto = location.protocol === 'https:' ? 'wss://' : 'ws://';
  const ws = new WebSocket(proto + location.host + '/api/v1/ws' +
                           (token ? '?access_token=' + encodeURIComponent(token) : ''));
  ws.onopen = () => { statusEl.textContent = 'live'; refresh().catch(showError); };
  ws.onmessage = () => refresh().catch(showError);
  ws.onclose = () => {
    if (unauthorized) return;  // a new token means a new page load
    statusEl.textContent = 'reconnecting…';
    setTimeout(connect, 2000);
  };
}
refresh().catch(showError);
connect();
</script>
</body>
</html>
)html";

const std::string_view kOpenApiDocument = R"json({
  "openapi": "3.0.3",
  "info": {"title": "peat-mesh broker", "version": "1"},
  "components": {
    "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
    "schemas": {
      "Error": {"type": "object", "required": ["error", "status"],
                "properties": {"error": {"type": "string"}, "status": {"type": "integer"}}},
      "Peer": {"type": "object", "required": ["id", "connected", "state", "rtt_ms"],
               "properties": {"id": {"type": "string"}, "connected": {"type": "boolean"},
                              "state": {"type": "string"},
                              "rtt_ms": {"type": "integer", "nullable": true}}},
      "DocumentList": {"type": "object", "required": ["collection", "count", "documents"],
                       "properties": {"collection": {"type": "string"}, "count": {"type": "integer"},
                                      "documents": {"type": "array", "items": {"type": "object"}}}},
      "Blob": {"type": "object", "required": ["hash", "size", "name", "content_type"],
               "properties": {"hash": {"type": "string"}, "size": {"type": "integer"},
                              "name": {"type": "string", "nullable": true},
                              "content_type": {"type": "string", "nullable": true}}},
      "BlobFetch": {"type": "object", "required": ["hash", "peer", "state", "bytes_done", "total"],
                    "properties": {"hash": {"type": "string"}, "peer": {"type": "string"},
                                   "state": {"type": "string", "description": "fetching, complete or failed: <CODE>: <reason>"},
                                   "bytes_done": {"type": "integer"}, "total": {"type": "integer"}}}
    }
  },
  "security": [{"bearer": []}],
  "paths": {
    "/api/v1/health": {"get": {"summary": "Liveness", "security": [],
      "responses": {"200": {"description": "{status, node_id}"}}}},
    "/api/v1/ready": {"get": {"summary": "Readiness", "security": [],
      "responses": {"200": {"description": "ready"}, "503": {"description": "not ready"}}}},
    "/api/v1/node": {"get": {"summary": "Node id, uptime and version",
      "responses": {"200": {"description": "{node_id, uptime_secs, version}"}}}},
    "/api/v1/peers": {"get": {"summary": "Known peers",
      "responses": {"200": {"description": "{peers: [Peer], count}"}}}},
    "/api/v1/peers/{id}": {"get": {"summary": "One peer",
      "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
      "responses": {"200": {"description": "Peer", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Peer"}}}},
                    "404": {"description": "Error"}}}},
    "/api/v1/topology": {"get": {"summary": "Role, level and peer count",
      "responses": {"200": {"description": "{peer_count, role, hierarchy_level, parent (when set)}"}}}},
    "/api/v1/documents/{collection}": {"get": {"summary": "Every document of a collection",
      "parameters": [{"name": "collection", "in": "path", "required": true, "schema": {"type": "string"}}],
      "responses": {"200": {"description": "DocumentList", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/DocumentList"}}}},
                    "404": {"description": "collection not available"}}}},
    "/api/v1/documents/{collection}/_query": {"post": {"summary": "Documents matching {where: [{field, op, value}], limit}",
      "parameters": [{"name": "collection", "in": "path", "required": true, "schema": {"type": "string"}}],
      "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object"}}}},
      "responses": {"200": {"description": "DocumentList"}, "400": {"description": "bad query"}}}},
    "/api/v1/documents/{collection}/{id}": {
      "parameters": [{"name": "collection", "in": "path", "required": true, "schema": {"type": "string"}},
                     {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
      "get": {"summary": "One document", "responses": {"200": {"description": "{collection, id, document}"}, "404": {"description": "not found"}}},
      "put": {"summary": "Create or replace a document from a JSON object",
              "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object"}}}},
              "responses": {"200": {"description": "stored"}, "400": {"description": "not a JSON object"}, "413": {"description": "body too large"}}},
      "delete": {"summary": "Delete (tombstone) a document", "responses": {"200": {"description": "deleted"}, "404": {"description": "not found"}}}},
    "/api/v1/ota/{peer_id}": {"post": {"summary": "Push firmware to a Peat-Lite device (multipart: firmware, version)",
      "parameters": [{"name": "peer_id", "in": "path", "required": true, "schema": {"type": "string"}}],
      "requestBody": {"required": true, "content": {"multipart/form-data": {"schema": {"type": "object",
        "properties": {"firmware": {"type": "string", "format": "binary"}, "version": {"type": "string"}}}}}},
      "responses": {"202": {"description": "{session_id, peer_id, firmware_size, total_chunks, version}"},
                    "400": {"description": "bad upload"}, "404": {"description": "unknown peer"}}}},
    "/api/v1/ota/{peer_id}/status": {"get": {"summary": "Progress of a firmware push",
      "parameters": [{"name": "peer_id", "in": "path", "required": true, "schema": {"type": "string"}}],
      "responses": {"200": {"description": "{session_id, state, progress_percent, chunks_sent, total_chunks, elapsed_secs}"},
                    "404": {"description": "no session"}}}},
    "/api/v1/blobs": {
      "get": {"summary": "Blobs in this node's store",
        "responses": {"200": {"description": "{blobs: [Blob], count}"}, "501": {"description": "no blob store"}}},
      "post": {"summary": "Store the request body as a blob (name: ?name= or X-Blob-Name; type: Content-Type)",
        "parameters": [{"name": "name", "in": "query", "required": false, "schema": {"type": "string"}}],
        "requestBody": {"required": true, "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
        "responses": {"201": {"description": "Blob (Location: /api/v1/blobs/{hash})", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Blob"}}}},
                      "400": {"description": "empty body"}, "413": {"description": "larger than the blob limit (64 MiB by default)"}}}},
    "/api/v1/blobs/{hash}": {"get": {"summary": "The blob's bytes, streamed",
      "parameters": [{"name": "hash", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[0-9a-fA-F]{64}$"}}],
      "responses": {"200": {"description": "content", "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
                    "400": {"description": "not a hash"}, "404": {"description": "not stored here"}}}},
    "/api/v1/blobs/{hash}/fetch": {"post": {"summary": "Fetch the blob from a connected peer ({peer: node id})",
      "parameters": [{"name": "hash", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[0-9a-fA-F]{64}$"}}],
      "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["peer"], "properties": {"peer": {"type": "string"}}}}}},
      "responses": {"202": {"description": "BlobFetch (started or running)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BlobFetch"}}}},
                    "200": {"description": "BlobFetch: already stored here"},
                    "400": {"description": "bad body or hash"}, "404": {"description": "unknown peer"}, "409": {"description": "peer not connected"}}}},
    "/api/v1/blobs/{hash}/status": {"get": {"summary": "State of the blob here: fetching, complete or failed",
      "parameters": [{"name": "hash", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[0-9a-fA-F]{64}$"}}],
      "responses": {"200": {"description": "BlobFetch", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BlobFetch"}}}},
                    "404": {"description": "neither stored nor being fetched"}}}},
    "/api/v1/ws": {"get": {"summary": "WebSocket: every mesh event as one JSON text frame",
      "responses": {"101": {"description": "upgraded"}, "426": {"description": "not an upgrade"}}}},
    "/metrics": {"get": {"summary": "Prometheus metrics", "responses": {"200": {"description": "text exposition format"}}}}
  }
}
)json";

}  // namespace peat::broker
