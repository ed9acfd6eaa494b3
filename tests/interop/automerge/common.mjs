// Shared helpers of the Automerge interop scripts: seeded random documents made with the npm
// package, a canonical JSON form to compare documents, and the framed C++ peer process.
import { spawn, execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

// The npm package lives in tests/interop/node_modules (installed by `./dev deps`).
export async function loadAutomerge() {
  try {
    const require = createRequire(join(here, "..", "package.json"));
    const path = require.resolve("@automerge/automerge");
    return await import(path);
  } catch (e) {
    console.error(`@automerge/automerge is not installed (run ./dev deps): ${e.message}`);
    process.exit(77); // CTest SKIP_RETURN_CODE
  }
}

export const A = await loadAutomerge();

// mulberry32: a small seeded generator so every run builds the same documents.
export function seeded(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  next.int = (n) => Math.floor(next() * n);
  return next;
}

export function actorHex(seed, index) {
  const r = seeded(seed * 977 + index);
  let s = index.toString(16).padStart(2, "0");
  while (s.length < 32) s += r.int(256).toString(16).padStart(2, "0");
  return s;
}

const WORDS = ["a", "bc", "déf", "😀", "x🌍y", "zz", " ", "日本"];

function scalar(r) {
  switch (r.int(9)) {
    case 0: return r.int(2000) - 1000;
    case 1: return r.int(1000) / 8 + 0.5;
    case 2: return r() < 0.5;
    case 3: return null;
    case 4: return new Date(1700000000000 + r.int(1000000));
    case 5: return new Uint8Array([r.int(256), r.int(256), 0, 255]);
    case 6: return new A.ImmutableString(WORDS[r.int(WORDS.length)]);
    case 7: return new A.Uint(r.int(100000));
    default: return WORDS[r.int(WORDS.length)];
  }
}

// Code point boundaries of a JS string, in UTF-16 units.
function boundaries(s) {
  const out = [0];
  let n = 0;
  for (const ch of s) {
    n += ch.length;
    out.push(n);
  }
  return out;
}

function spliceText(d, path, text, r) {
  const b = boundaries(text);
  const start = r.int(b.length);
  const end = Math.min(b.length - 1, start + r.int(3));
  const del = r.int(3) === 0 ? b[end] - b[start] : 0;
  A.splice(d, path, b[start], del, WORDS[r.int(WORDS.length)]);
}

// One random edit inside a change callback: root scalars, a counter, a list holding scalars,
// maps and lists, a text, and a nested map.
export function randomEdit(d, r) {
  const k = "k" + r.int(6);
  switch (r.int(10)) {
    case 0:
    case 1:
      d[k] = scalar(r);
      break;
    case 2:
      if (d.counter instanceof A.Counter) d.counter.increment(r.int(20) - 5);
      else d.counter = new A.Counter(r.int(10));
      break;
    case 3:
    case 4: {
      if (!Array.isArray(d.list)) d.list = [];
      const n = d.list.length;
      const op = r.int(6);
      if (op === 0 && n > 0) d.list.deleteAt(r.int(n));
      else if (op === 1) d.list.insertAt(r.int(n + 1), { id: r.int(100), tags: [scalar(r)] });
      else if (op === 2) d.list.insertAt(r.int(n + 1), [scalar(r), [scalar(r)]]);
      else if (op === 3 && n > 0 && Array.isArray(d.list[0])) d.list[0].push(scalar(r));
      else d.list.insertAt(r.int(n + 1), scalar(r));
      break;
    }
    case 5:
    case 6:
      if (typeof d.text !== "string") d.text = "hello 👋";
      else spliceText(d, ["text"], d.text, r);
      break;
    case 7:
      if (typeof d.map !== "object" || d.map === null || Array.isArray(d.map)) d.map = {};
      if (r() < 0.3 && Object.keys(d.map).length > 0) delete d.map[Object.keys(d.map)[0]];
      else d.map[k] = r() < 0.2 ? { deep: scalar(r) } : scalar(r);
      break;
    case 8:
      if (k in d) delete d[k];
      break;
    default:
      d[k] = WORDS[r.int(WORDS.length)];
  }
}

export function edit(doc, r, ops) {
  return A.change(doc, { time: 0 }, (d) => {
    for (let i = 0; i < ops; i++) randomEdit(d, r);
  });
}

// Three actors editing concurrently from a common base, merged, then edited again.
export function randomDoc(seed) {
  const r = seeded(seed);
  let a = A.init({ actor: actorHex(seed, 1) });
  for (let i = 0; i < 3; i++) a = edit(a, r, 5);
  let b = A.clone(a, { actor: actorHex(seed, 2) });
  let c = A.clone(a, { actor: actorHex(seed, 3) });
  for (let i = 0; i < 3; i++) {
    a = edit(a, r, 4);
    b = edit(b, r, 4);
    c = edit(c, r, 4);
  }
  a = A.merge(a, b);
  a = A.merge(a, c);
  return edit(a, r, 6);
}

// Canonical JSON: counters and uints as numbers, bytes as base64, dates as ms, keys sorted.
// (npm stores `new A.Uint(n)` pushed into a list as a map {value: n}: that map is compared.)
export function canon(v) {
  if (typeof v === "bigint") return Number(v);  // uint values
  if (v === null || typeof v !== "object") return v;
  if (v instanceof A.Counter) return v.value;
  if (v instanceof Date) return v.getTime();
  if (v instanceof Uint8Array) return Buffer.from(v).toString("base64");
  if (A.ImmutableString && v instanceof A.ImmutableString) return v.toString();
  if (Array.isArray(v)) return v.map(canon);
  const out = {};
  for (const key of Object.keys(v).sort()) out[key] = canon(v[key]);
  return out;
}

export const json = (doc) => JSON.stringify(canon(A.toJS(doc)));
export const cppJson = (docJson) => JSON.stringify(canon(docJson));
export const heads = (doc) => [...A.getHeads(doc)].sort();

export function runTool(bin, args) {
  return JSON.parse(execFileSync(bin, args, { encoding: "utf8", timeout: 20000 }));
}

let failures = 0;
export function check(ok, what, detail = "") {
  if (ok) {
    console.log(`ok   ${what}`);
  } else {
    failures++;
    console.log(`FAIL ${what}${detail ? "\n     " + detail : ""}`);
  }
}
export function finish() {
  if (failures > 0) {
    console.log(`${failures} check(s) failed`);
    process.exit(1);
  }
  console.log("all checks passed");
}

// The C++ sync peer (interop_automerge_peer peer) behind 4-byte big-endian length framing.
export class CppPeer {
  constructor(bin, index = 0xc0) {
    this.proc = spawn(bin, ["peer", String(index)], { stdio: ["pipe", "pipe", "inherit"] });
    this.buf = Buffer.alloc(0);
    this.waiting = [];
    this.proc.stdout.on("data", (chunk) => {
      this.buf = Buffer.concat([this.buf, chunk]);
      this.drain();
    });
    this.proc.on("exit", (code) => {
      this.exited = true;
      for (const w of this.waiting) w.reject(new Error(`C++ peer exited with ${code}`));
      this.waiting = [];
    });
  }

  drain() {
    while (this.waiting.length > 0 && this.buf.length >= 4) {
      const n = this.buf.readUInt32BE(0);
      if (this.buf.length < 4 + n) return;
      const frame = this.buf.subarray(4, 4 + n);
      this.buf = this.buf.subarray(4 + n);
      this.waiting.shift().resolve({ kind: String.fromCharCode(frame[0]), body: frame.subarray(1) });
    }
  }

  call(kind, body = new Uint8Array(0)) {
    if (this.exited) return Promise.reject(new Error("C++ peer is gone"));
    const head = Buffer.alloc(5);
    head.writeUInt32BE(body.length + 1, 0);
    head[4] = kind.charCodeAt(0);
    this.proc.stdin.write(Buffer.concat([head, Buffer.from(body)]));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`C++ peer did not answer '${kind}'`)), 20000);
      this.waiting.push({
        resolve: (v) => { clearTimeout(timer); resolve(v); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      });
      this.drain();
    });
  }

  async ok(kind, body) {
    const r = await this.call(kind, body);
    if (r.kind !== "K") throw new Error(`C++ peer '${kind}' failed: ${Buffer.from(r.body).toString()}`);
    return r.body;
  }

  async dump() {
    const r = await this.call("D");
    return JSON.parse(Buffer.from(r.body).toString("utf8"));
  }

  async close() {
    if (!this.exited) {
      const head = Buffer.from([0, 0, 0, 1, "Q".charCodeAt(0)]);
      this.proc.stdin.end(head);
      await new Promise((resolve) => this.proc.once("exit", resolve));
    }
  }
}

export function runningAsMain(url) {
  return process.argv[1] && fileURLToPath(url) === process.argv[1];
}
