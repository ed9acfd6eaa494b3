// A JS peer and the C++ peer (a child process on a pipe) sync until both report the same heads.
// Usage: node sync_with_cpp.mjs <interop_automerge_peer>
import { A, CppPeer, randomDoc, edit, seeded, json, cppJson, heads, check, finish } from "./common.mjs";

const bin = process.argv[2];
const MAX_ROUNDS = 20;

// Alternates generate/receive until neither side has anything to say. Returns message stats.
async function syncLoop(js, peer) {
  let rounds = 0, messages = 0, bytes = 0, versions = new Set();
  for (; rounds < MAX_ROUNDS; rounds++) {
    let msg;
    [js.state, msg] = A.generateSyncMessage(js.doc, js.state);
    if (msg) {
      messages++;
      bytes += msg.length;
      await peer.ok("R", msg);
    }
    const reply = await peer.call("G");
    if (reply.kind === "S") {
      messages++;
      bytes += reply.body.length;
      versions.add(reply.body[0]);
      [js.doc, js.state] = A.receiveSyncMessage(js.doc, js.state, new Uint8Array(reply.body));
    }
    if (!msg && reply.kind === "N") break;
  }
  return { rounds, messages, bytes, versions };
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

const seedBytes = (n) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
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

finish();
