// Negentropy interop: the nip77 module of nostr-tools (an independent JavaScript port of
// hoytech/negentropy) must produce byte-identical initiator messages when fed this
// implementation's responder replies, and find the same have/need ids.
// Usage: node nostr_tools_interop.mjs <interop_negentropy_peer>. Exit 77 = nostr-tools missing.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const nip77Path =
  process.env.PEAT_NIP77_MODULE ??
  path.join(here, '../../interop/node_modules/nostr-tools/lib/esm/nip77.js');
let nip77;
try {
  nip77 = await import(pathToFileURL(nip77Path).href);
} catch {
  console.log(`skipped: nostr-tools not installed (${nip77Path})`);
  process.exit(77);
}
const { Negentropy, NegentropyStorageVector } = nip77;

// seed, shared, only_a, only_b, timestamp range, frame limit (the JS port needs a limit >= 4096)
const scenarios = [
  [1, 0, 0, 0, 100, 60000],
  [2, 10, 3, 4, 100, 60000],
  [3, 1000, 20, 30, 100000, 60000],
  [4, 5000, 200, 100, 5, 60000], // many equal timestamps: id-prefix bounds
  [5, 20000, 500, 500, 1000000, 60000],
  [6, 3000, 0, 2000, 1, 4096], // frame limit forces many rounds
  [7, 30000, 700, 600, 86400, 4096],
];

let failed = false;
for (const args of scenarios) {
  const out = execFileSync(process.argv[2], args.map(String), { maxBuffer: 1 << 28 });
  const t = JSON.parse(out.toString());
  const storage = new NegentropyStorageVector();
  for (const [ts, id] of t.items) storage.insert(ts, id);
  storage.seal();
  const neg = new Negentropy(storage, t.limit);
  let msg = neg.initiate();
  const have = new Set();
  const need = new Set();
  let problem = null;
  for (let i = 0; i < t.transcript.length && !problem; i++) {
    const [ours, reply] = t.transcript[i];
    if (msg !== ours) problem = `round ${i}: initiator messages differ`;
    else msg = neg.reconcile(reply, (id) => have.add(id), (id) => need.add(id));
  }
  const same = (set, list) => set.size === list.length && list.every((x) => set.has(x));
  if (!problem && msg !== null) problem = 'JS initiator expects another round';
  if (!problem && !same(have, t.have)) problem = 'have ids differ';
  if (!problem && !same(need, t.need)) problem = 'need ids differ';
  const label = `scenario ${args.join(' ')}: ${t.transcript.length} rounds`;
  console.log(problem ? `FAIL ${label}: ${problem}` : `ok   ${label}`);
  failed ||= problem !== null;
}
process.exit(failed ? 1 : 0);
