// Documents made by the C++ engine load in @automerge/automerge with the same JSON and heads,
// both as a saved document and as change chunks applied one by one.
// Usage: node cpp_to_js.mjs <interop_automerge_peer>
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { A, json, cppJson, heads, runTool, check, finish } from "./common.mjs";

// Splits concatenated chunks (magic, checksum, type, uLEB length, body).
function splitChunks(bytes) {
  const out = [];
  let i = 0;
  while (i < bytes.length) {
    let len = 0, shift = 0, j = i + 9;
    for (;;) {
      const b = bytes[j++];
      len += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if ((b & 0x80) === 0) break;
    }
    out.push(bytes.subarray(i, j + len));
    i = j + len;
  }
  return out;
}

const bin = process.argv[2];
const dir = mkdtempSync(join(tmpdir(), "peat-cpp2js-"));
try {
  for (let seed = 1; seed <= 12; seed++) {
    const file = join(dir, `seed${seed}.automerge`);
    let made;
    try {
      made = runTool(bin, ["gen", String(seed), file]);
    } catch (e) {
      check(false, `seed ${seed}: C++ generates a document`, String(e.stderr || e.message).trim());
      continue;
    }
    const expectedHeads = JSON.stringify(made.heads);
    const expectedJson = cppJson(made.doc);

    let doc;
    try {
      doc = A.load(readFileSync(file));
    } catch (e) {
      check(false, `seed ${seed}: npm loads the C++ document`, e.message);
      continue;
    }
    check(JSON.stringify(heads(doc)) === expectedHeads, `seed ${seed}: save() has the same heads`);
    check(json(doc) === expectedJson, `seed ${seed}: save() has the same JSON`,
      `C++ ${expectedJson}\n     JS  ${json(doc)}`);
    check(A.getAllChanges(doc).length === made.changes, `seed ${seed}: same change count`);
    const reloaded = A.load(A.save(doc));
    check(json(reloaded) === expectedJson, `seed ${seed}: npm save/load of it round-trips`);

    const chunks = splitChunks(readFileSync(file + ".changes"));
    let fromChanges = A.init();
    let decodeOk = true;
    for (const c of chunks) {
      try {
        A.decodeChange(c);
      } catch (e) {
        decodeOk = false;
      }
    }
    check(decodeOk && chunks.length === made.changes, `seed ${seed}: every C++ change decodes in npm`);
    try {
      [fromChanges] = A.applyChanges(fromChanges, chunks);
      check(JSON.stringify(heads(fromChanges)) === expectedHeads && json(fromChanges) === expectedJson,
        `seed ${seed}: applyChanges of the C++ changes gives the same document`);
      check(A.getMissingDeps(fromChanges, []).length === 0, `seed ${seed}: no missing deps`);
    } catch (e) {
      check(false, `seed ${seed}: applyChanges of the C++ changes`, e.message);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
finish();
