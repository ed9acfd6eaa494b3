// A JS peer and the C++ peer (a child process on a pipe) sync until both report the same heads.
// Usage: node sync_with_cpp.mjs <interop_automerge_peer>
import { A, CppPeer, randomDoc, edit, seeded, json, cppJson, heads, check, finish } from "./common.mjs";

const bin = process.argv[2];
const MAX_ROUNDS = 20;

// Alternates generate/receive until neither side has anything to say. Returns message stats.
// `between(round)` may edit either side between rounds (edits while messages are in flight).
async function syncLoop(js, peer, between = null) {
  let rounds = 0, messages = 0, bytes = 0, versions = new Set(), jsVersions = new Set();
  for (; rounds < MAX_ROUNDS; rounds++) {
    if (between) await between(rounds);
    let msg;
    [js.state, msg] = A.generateSyncMessage(js.doc, js.state);
    if (msg) {
      messages++;
      bytes += msg.length;
      jsVersions.add(msg[0]);
      await peer.ok("R", msg);
    }
    const reply = await peer.call("G");
    if (reply.kind === "S") {
      messages++;
      bytes += reply.body.length;
      versions.add(reply.body[0]);
      [js.doc, js.state] = A.receiveSyncMessage(js.doc, js.state, new Uint8Array(reply.body));
    }
    if (!msg && reply.kind === "N" && !(between && rounds < 3)) break;
  }
  return { rounds, messages, bytes, versions, jsVersions };
}

async function expectConverged(name, js, peer, stats, maxMessages) {
  const cpp = await peer.dump();
  check(rounds(stats), `${name}: terminates (${stats.messages} messages, ${stats.bytes} bytes)`);
  check(JSON.stringify(cpp.heads) === JSON.stringify(heads(js.doc)), `${name}: same heads`,
    `C++ ${cpp.heads} JS ${heads(js.doc)}`);
  check(cppJson(cpp.doc) === json(js.doc), `${name}: same JSON`,
    `C++ ${cppJson(cpp.doc)}\n     JS  ${json(js.doc)}`);
  check(stats.messages <= maxMessages, `${name}: at most ${maxMessages} messages`);
}
const rounds = (stats) => stats.rounds < MAX_ROUNDS;

async function scenario(name, fn) {
  const peer = new CppPeer(bin);
  try {
    await fn(peer);
  } catch (e) {
    check(false, `${name}: ran`, e.stack);
  } finally {
    await peer.close();
  }
}

// 'E' payload: 8-byte seed, then optionally the number of changes to make.
const seedBytes = (n, changes = 1) => {
  const b = Buffer.alloc(12);
  b.writeBigUInt64BE(BigInt(n));
  b.writeUInt32BE(changes, 8);
  return b;
};

await scenario("JS full -> C++ empty", async (peer) => {
  await peer.ok("L");
  const js = { doc: randomDoc(21), state: A.initSyncState() };
  const stats = await syncLoop(js, peer);
  await expectConverged("JS full -> C++ empty", js, peer, stats, 6);
  check(stats.versions.has(0x43), "JS full -> C++ empty: C++ answers with V2 messages");
});

await scenario("C++ full -> JS empty", async (peer) => {
  await peer.ok("L");
  for (let i = 1; i <= 4; i++) await peer.ok("E", seedBytes(i));
  const js = { doc: A.init({ actor: "0a0a0a0a" }), state: A.initSyncState() };
  const stats = await syncLoop(js, peer);
  await expectConverged("C++ full -> JS empty", js, peer, stats, 6);
  check(A.getAllChanges(js.doc).length === 4, "C++ full -> JS empty: JS has the 4 C++ changes");
});

await scenario("diverged", async (peer) => {
  const base = randomDoc(31);
  await peer.ok("L", A.save(base));
  const js = { doc: edit(edit(A.clone(base, { actor: "0b0b0b0b" }), seeded(5), 6), seeded(6), 3),
               state: A.initSyncState() };
  await peer.ok("E", seedBytes(77));
  await peer.ok("E", seedBytes(78));
  const stats = await syncLoop(js, peer);
  await expectConverged("diverged", js, peer, stats, 8);

  // One change apart, on a warm sync state, in each direction.
  js.doc = edit(js.doc, seeded(9), 2);
  let s = await syncLoop(js, peer);
  await expectConverged("one JS change apart", js, peer, s, 4);
  await peer.ok("E", seedBytes(79));
  s = await syncLoop(js, peer);
  await expectConverged("one C++ change apart", js, peer, s, 4);

  // Reconnect with persisted sync states on both sides.
  const jsSaved = A.encodeSyncState(js.state);
  const cppSaved = await peer.ok("P");
  js.state = A.decodeSyncState(jsSaved);
  check(Buffer.from(cppSaved).equals(Buffer.from(jsSaved)),
    "reconnect: C++ and JS persist the same sync state bytes");
  await peer.ok("T", cppSaved);
  js.doc = edit(js.doc, seeded(10), 2);
  await peer.ok("E", seedBytes(80));
  s = await syncLoop(js, peer);
  await expectConverged("reconnect with persisted state", js, peer, s, 8);
});

await scenario("chain", async (peer) => {
  // JS in the middle: C++ peer 1 <-> JS <-> C++ peer 2 (the C++ peers only speak to npm).
  const peer2 = new CppPeer(bin, 0xc1);
  try {
    await peer.ok("L");
    for (let i = 11; i <= 13; i++) await peer.ok("E", seedBytes(i));
    await peer2.ok("L");
    await peer2.ok("E", seedBytes(99));
    const js1 = { doc: A.init({ actor: "0c0c0c0c" }), state: A.initSyncState() };
    await syncLoop(js1, peer);
    const js2 = { doc: js1.doc, state: A.initSyncState() };
    const s2 = await syncLoop(js2, peer2);
    await expectConverged("chain JS <-> second C++ peer", js2, peer2, s2, 8);
    js1.doc = js2.doc;
    const s1 = await syncLoop(js1, peer);
    await expectConverged("chain back to first C++ peer", js1, peer, s1, 8);
  } finally {
    await peer2.close();
  }
});

await scenario("V1-only C++ peer", async (peer) => {
  await peer.ok("V");
  await peer.ok("L");
  await peer.ok("E", seedBytes(41, 3));
  const js = { doc: randomDoc(41), state: A.initSyncState() };
  const stats = await syncLoop(js, peer);
  await expectConverged("V1-only C++ peer", js, peer, stats, 8);
  check(!stats.jsVersions.has(0x43) && !stats.versions.has(0x43),
    "V1-only C++ peer: npm and C++ only exchange V1 messages");
});

await scenario("edits while syncing", async (peer) => {
  await peer.ok("L", A.save(randomDoc(51)));
  const js = { doc: A.clone(randomDoc(51), { actor: "0d0d0d0d" }), state: A.initSyncState() };
  const r = seeded(52);
  const stats = await syncLoop(js, peer, async (round) => {
    if (round < 3) {
      js.doc = edit(js.doc, r, 2);
      await peer.ok("E", seedBytes(500 + round));
    }
  });
  await expectConverged("edits while syncing", js, peer, stats, 16);
});

await scenario("C++ lost its data", async (peer) => {
  await peer.ok("L");
  await peer.ok("E", seedBytes(61, 5));
  const js = { doc: A.init({ actor: "0e0e0e0e" }), state: A.initSyncState() };
  await syncLoop(js, peer);
  const saved = await peer.ok("P");
  // The C++ side restarts empty but with its persisted state: npm must answer with a reset.
  await peer.ok("L");
  await peer.ok("T", saved);
  js.state = A.decodeSyncState(A.encodeSyncState(js.state));
  const stats = await syncLoop(js, peer);
  await expectConverged("C++ lost its data", js, peer, stats, 8);
});

await scenario("JS lost its data", async (peer) => {
  await peer.ok("L");
  await peer.ok("E", seedBytes(71, 5));
  const js = { doc: A.init({ actor: "0f0f0f0f" }), state: A.initSyncState() };
  await syncLoop(js, peer);
  const saved = A.encodeSyncState(js.state);
  await peer.ok("T", await peer.ok("P"));
  js.doc = A.init({ actor: "0f0f0f0f" });
  js.state = A.decodeSyncState(saved);
  const stats = await syncLoop(js, peer);
  await expectConverged("JS lost its data", js, peer, stats, 12);
});

await scenario("long diverged histories", async (peer) => {
  // About 1,500 changes on each side after a shared base: Bloom filters of ~1.9 KB each, so
  // some false positives are likely and must be repaired through `need`.
  const base = randomDoc(81);
  await peer.ok("L", A.save(base));
  await peer.ok("E", seedBytes(82, 1500));
  let doc = A.clone(base, { actor: "1a1a1a1a" });
  const r = seeded(83);
  for (let i = 0; i < 1500; i++) doc = edit(doc, r, 1);
  const js = { doc, state: A.initSyncState() };
  const stats = await syncLoop(js, peer);
  await expectConverged("long diverged histories", js, peer, stats, 16);
  check(A.getAllChanges(js.doc).length === (await peer.dump()).changes,
    "long diverged histories: same change count");
});

// The C++ peer must send exactly the bytes npm sends in its place: replay one session with an
// npm peer X and again with the C++ peer as X, against identical npm peers Y.
await scenario("byte-identical to npm", async (peer) => {
  // Seeds 3-6: diverged peers (Bloom filters, change chunks); 7-8: Y is empty (whole document).
  for (const seed of [3, 4, 5, 6, 7, 8]) {
    const base = randomDoc(seed);
    const xBytes = A.save(edit(A.clone(base, { actor: "aa".repeat(16) }), seeded(seed + 1), 3));
    const yDoc = seed >= 7 ? A.init({ actor: "bb".repeat(16) })
      : A.load(A.save(edit(A.clone(base, { actor: "bb".repeat(16) }), seeded(seed + 2), 3)));

    const session = async (gen, recv) => {
      let y = A.clone(yDoc), ys = A.initSyncState();
      const log = [];
      for (let round = 0; round < MAX_ROUNDS; round++) {
        const mx = await gen();
        if (mx) {
          log.push("x:" + Buffer.from(mx).toString("hex"));
          [y, ys] = A.receiveSyncMessage(y, ys, mx);
        }
        let my;
        [ys, my] = A.generateSyncMessage(y, ys);
        if (my) {
          log.push("y:" + Buffer.from(my).toString("hex"));
          await recv(my);
        }
        if (!mx && !my) break;
      }
      return log;
    };

    let x = A.load(xBytes), xs = A.initSyncState();
    const expected = await session(
      async () => { let m; [xs, m] = A.generateSyncMessage(x, xs); return m; },
      async (m) => { [x, xs] = A.receiveSyncMessage(x, xs, m); });

    await peer.ok("L", xBytes);
    const got = await session(
      async () => { const r = await peer.call("G"); return r.kind === "S" ? new Uint8Array(r.body) : null; },
      async (m) => { await peer.ok("R", m); });

    const firstDiff = expected.findIndex((m, i) => m !== got[i]);
    check(firstDiff === -1 && got.length === expected.length,
      `byte-identical to npm, seed ${seed}: ${expected.length} messages`,
      firstDiff === -1 ? `lengths ${got.length} vs ${expected.length}`
        : `message ${firstDiff}\n     npm ${expected[firstDiff]}\n     C++ ${got[firstDiff]}`);
  }
});

finish();
