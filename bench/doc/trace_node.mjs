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
// Wall and process CPU milliseconds of one phase.
function phase(fn) {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const value = fn();
  const c = process.cpuUsage(c0);
  return { value, wall: performance.now() - t0, cpu: (c.user + c.system) / 1000 };
}

const apply = phase(() => A.change(doc, { time: 0 }, (d) => {
  for (let i = 0; i < edits; i++) {
    const o = i * 6;
    const pos = bytes.readUInt32LE(o);
    if (bytes[o + 4]) A.splice(d, ["text"], pos, 1);
    else A.splice(d, ["text"], pos, 0, String.fromCharCode(bytes[o + 5]));
  }
}));
doc = apply.value;
const save = phase(() => A.save(doc));
const saved = save.value;
const load = phase(() => A.load(saved));
const loaded = load.value;

console.log(JSON.stringify({
  apply_ms: apply.wall,
  apply_cpu_ms: apply.cpu,
  save_ms: save.wall,
  save_cpu_ms: save.cpu,
  load_ms: load.wall,
  load_cpu_ms: load.cpu,
  size: saved.length,
  hwm_kb: hwmKb(),
  changes: A.getAllChanges(loaded).length,
  ok: loaded.text.length === expectedLength && doc.text === loaded.text,
}));
