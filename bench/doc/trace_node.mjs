// The Node half of bench_doc_trace: applies the trace file with @automerge/automerge in one
// change, then saves and loads, and prints one JSON line.
// With MANY_FILE (the C++ engine's save() of the one-change-per-edit history) it also loads
// that file and syncs it to an empty npm peer.
// Usage: node trace_node.mjs TRACE_FILE EXPECTED_LENGTH [MANY_FILE]
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

const hwmOneChange = hwmKb();
let many = null;
if (process.argv[4]) {
  const bytesMany = readFileSync(process.argv[4]);
  const loadMany = phase(() => A.load(bytesMany));
  let full = loadMany.value;
  let empty = A.init({ actor: "44".repeat(16) });
  let sFull = A.initSyncState(), sEmpty = A.initSyncState();
  let messages = 0, total = 0;
  const sync = phase(() => {
    for (let round = 0; round < 10; round++) {
      let m1, m2;
      [sFull, m1] = A.generateSyncMessage(full, sFull);
      if (m1) {
        messages++;
        total += m1.length;
        [empty, sEmpty] = A.receiveSyncMessage(empty, sEmpty, m1);
      }
      [sEmpty, m2] = A.generateSyncMessage(empty, sEmpty);
      if (m2) {
        messages++;
        total += m2.length;
        [full, sFull] = A.receiveSyncMessage(full, sFull, m2);
      }
      if (!m1 && !m2) break;
    }
  });
  many = {
    changes: A.getAllChanges(full).length,
    load_ms: loadMany.wall,
    load_cpu_ms: loadMany.cpu,
    load_ok: full.text === doc.text,
    sync_ms: sync.wall,
    sync_cpu_ms: sync.cpu,
    messages,
    bytes: total,
    sync_ok: JSON.stringify(A.getHeads(empty)) === JSON.stringify(A.getHeads(full)),
  };
}

console.log(JSON.stringify({
  apply_ms: apply.wall,
  apply_cpu_ms: apply.cpu,
  save_ms: save.wall,
  save_cpu_ms: save.cpu,
  load_ms: load.wall,
  load_cpu_ms: load.cpu,
  size: saved.length,
  hwm_kb: hwmOneChange,
  changes: A.getAllChanges(loaded).length,
  ok: loaded.text.length === expectedLength && doc.text === loaded.text,
  many,
}));
