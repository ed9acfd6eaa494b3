// Documents made by @automerge/automerge load in C++ with the same JSON and heads.
// Usage: node js_to_cpp.mjs <interop_automerge_peer>
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { A, randomDoc, json, cppJson, heads, runTool, check, finish, edit, seeded } from "./common.mjs";

const bin = process.argv[2];
const dir = mkdtempSync(join(tmpdir(), "peat-js2cpp-"));
try {
  for (let seed = 1; seed <= 12; seed++) {
    const doc = randomDoc(seed);
    const forms = {
      save: A.save(doc),
      changes: Buffer.concat(A.getAllChanges(doc).map((c) => Buffer.from(c))),
    };
    // save() followed by appended saveIncremental() chunks, as a store would write them.
    let more = A.clone(doc);
    A.saveIncremental(more);
    more = edit(more, seeded(seed + 100), 4);
    forms.appended = Buffer.concat([Buffer.from(forms.save), Buffer.from(A.saveIncremental(more))]);

    for (const [form, bytes] of Object.entries(forms)) {
      const expected = form === "appended" ? more : doc;
      const file = join(dir, `seed${seed}-${form}.automerge`);
      writeFileSync(file, bytes);
      let got;
      try {
        got = runTool(bin, ["dump", file]);
      } catch (e) {
        check(false, `seed ${seed} ${form}: C++ loads the document`, String(e.stderr || e.message).trim());
        continue;
      }
      check(JSON.stringify(got.heads) === JSON.stringify(heads(expected)),
        `seed ${seed} ${form}: same heads`, `${got.heads} vs ${heads(expected)}`);
      check(cppJson(got.doc) === json(expected), `seed ${seed} ${form}: same JSON`,
        `C++ ${cppJson(got.doc)}\n     JS  ${json(expected)}`);
      check(got.changes === A.getAllChanges(expected).length, `seed ${seed} ${form}: same change count`);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
finish();
