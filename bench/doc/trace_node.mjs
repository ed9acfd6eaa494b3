// The Node half of bench_doc_trace: applies the trace file with @automerge/automerge in one
// change, then saves and loads, and prints one JSON line.
// Usage: node trace_node.mjs TRACE_FILE EXPECTED_LENGTH
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, "..", "..", "tests", "interop", "package.json"));
const A = await import(require.resolve("@automerge/automerge"));

const hwmKb = () => {
  const m = /VmHWM:\s+(\d+)/.exec(readFileSync("/proc/self/status", "utf8"));
  return m ? Number(m[1]) : -1;
};

const bytes = readFileSync(process.argv[2]);
const expectedLength = Number(process.argv[3]);
const edits = bytes.length / 6;

let doc = A.change(A.init({ actor: "42".repeat(16) }), { time: 0 }, (d) => {
  d.text = "";
});
let t0 = performance.now();
doc = A.change(doc, { time: 0 }, (d) => {
  for (let i = 0; i < edits; i++) {
    const o = i * 6;
    const pos = bytes.readUInt32LE(o);
    if (bytes[o + 4]) A.splice(d, ["text"], pos, 1);
    else A.splice(d, ["text"], pos, 0, String.fromCharCode(bytes[o + 5]));
  }
});
const applyMs = performance.now() - t0;

t0 = performance.now();
const saved = A.save(doc);
const saveMs = performance.now() - t0;

t0 = performance.now();
const loaded = A.load(saved);
const loadMs = performance.now() - t0;

console.log(JSON.stringify({
  apply_ms: applyMs,
  save_ms: saveMs,
  load_ms: loadMs,
  size: saved.length,
  hwm_kb: hwmKb(),
  changes: A.getAllChanges(loaded).length,
  ok: loaded.text.length === expectedLength && doc.text === loaded.text,
}));
