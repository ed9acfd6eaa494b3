// Regenerates the CLI test fixtures with @automerge/automerge (run once; outputs are committed).
// Usage: node tests/cli/make_fixtures.mjs   (needs tests/interop/node_modules)
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { A } from "../interop/automerge/common.mjs";

const out = join(dirname(fileURLToPath(import.meta.url)), "fixtures");
let base = A.change(A.init({ actor: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" }), { time: 0 }, (d) => {
  d.title = "shopping";
  d.items = ["milk"];
  d.count = new A.Counter(1);
});
let a = A.change(base, { time: 0 }, (d) => {
  d.items.push("eggs 🥚");
  d.count.increment(2);
});
let b = A.change(A.clone(base, { actor: "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" }), { time: 0 }, (d) => {
  d.items.insertAt(0, "bread");
  d.owner = "bob";
});
writeFileSync(join(out, "a.automerge"), A.save(a));
writeFileSync(join(out, "b.automerge"), A.save(b));
writeFileSync(join(out, "merged.json"), JSON.stringify(A.toJS(A.merge(A.clone(a), b))) + "\n");
writeFileSync(join(out, "not-automerge.bin"), Buffer.from("this is not an automerge file\n"));
const truncated = A.save(a);
writeFileSync(join(out, "truncated.automerge"), truncated.subarray(0, truncated.length - 7));
