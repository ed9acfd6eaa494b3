// The broker's event WebSocket (/api/v1/ws) against the npm `ws` client, a real outside peer.
// Usage: node websocket.mjs <ui_demo_server> <build dir>
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { DemoServer, need, runChecks, waitFor, withTimeout } from './common.mjs';

const { default: WebSocket } = await need('ws');
const [binary] = process.argv.slice(2);
if (!binary) {
  console.error('usage: node websocket.mjs <ui_demo_server> [build dir]');
  process.exit(2);
}
const TOKEN = 'ui-test-token-3f9c';

// A client that records every message; `opened` rejects on a refused upgrade.
function subscribe(url, options = {}) {
  const ws = new WebSocket(url, options);
  const c = { ws, messages: [], closed: false, closeCode: null };
  ws.on('message', (data, isBinary) => c.messages.push({ text: data.toString(), isBinary }));
  ws.on('close', (code) => { c.closed = true; c.closeCode = code; });
  ws.on('error', () => {});
  c.opened = new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })));
    ws.once('error', reject);
  });
  c.closedP = new Promise((resolve) => ws.once('close', resolve));
  return c;
}

async function open(url, options) {
  const c = subscribe(url, options);
  await withTimeout(c.opened, 5000, `open ${url}`);
  return c;
}

async function closeAll(clients) {
  for (const c of clients) if (!c.closed) c.ws.close();
  await withTimeout(Promise.all(clients.map((c) => c.closedP)), 10000, 'clients closing');
}

// Waits until the server counts exactly `n` subscribers (it registers them after the handshake).
const expectClients = (server, n) => waitFor(async () => (await server.clients()) === n, 10000,
                                             `${n} WebSocket clients on the server`);

async function health(server, headers = {}) {
  const r = await fetch(server.base + '/api/v1/health', { headers });
  return r.status;
}

const server = await DemoServer.start(binary);
const secured = await DemoServer.start(binary, ['--token', TOKEN]);

await runChecks([
  ['events arrive as JSON text frames, in publish order, on every client', async () => {
    const a = await open(server.wsUrl);
    const b = await open(server.wsUrl);
    await expectClients(server, 2);
    const sent = [];
    for (let i = 0; i < 50; i++) {
      const ev = { type: 'peer_state', seq: i, peer: `peer-${i % 4}`, note: 'ü→✓' };
      sent.push(ev);
      await server.publish(ev);
    }
    for (const c of [a, b]) {
      await waitFor(() => c.messages.length >= sent.length, 10000, 'all 50 events');
      assert.equal(c.messages.length, sent.length);
      assert.ok(c.messages.every((m) => !m.isBinary), 'every frame is a text frame');
      assert.deepEqual(c.messages.map((m) => JSON.parse(m.text)), sent);
    }
    await closeAll([a, b]);
    await expectClients(server, 0);
  }],

  ['with a token set, no token and a wrong token are refused with 401', async () => {
    for (const [url, opts] of [
      [secured.wsUrl, {}],
      [secured.wsUrl, { headers: { Authorization: 'Bearer wrong-token-xxxxxxx' } }],
      [secured.wsUrl + '?access_token=wrong-token-xxxxxxx', {}],
      [secured.wsUrl + '?access_token=' + TOKEN.slice(0, -1), {}],
    ]) {
      const c = subscribe(url, opts);
      await assert.rejects(withTimeout(c.opened, 5000, 'refusal'), (e) => e.status === 401);
      c.ws.terminate();
    }
    assert.equal(await secured.clients(), 0);
  }],

  ['with a token set, the header and the access_token parameter are both accepted', async () => {
    const byHeader = await open(secured.wsUrl, { headers: { Authorization: 'Bearer ' + TOKEN } });
    const byQuery = await open(secured.wsUrl + '?access_token=' + TOKEN);
    await expectClients(secured, 2);
    await secured.publish({ type: 'hello', n: 1 });
    for (const c of [byHeader, byQuery]) {
      await waitFor(() => c.messages.length === 1, 5000, 'the event');
      assert.deepEqual(JSON.parse(c.messages[0].text), { type: 'hello', n: 1 });
    }
    await closeAll([byHeader, byQuery]);
  }],

  ['a stalled client and a vanished client do not hold back the others', async () => {
    const fast = await open(server.wsUrl);
    const stalled = await open(server.wsUrl);
    const vanished = await open(server.wsUrl);
    await expectClients(server, 3);
    stalled.ws.pause();                 // stops reading: its TCP window fills up
    vanished.ws._socket.destroy();      // gone without a close frame
    const blob = 'x'.repeat(60 * 1024);
    const n = 500;                      // ~30 MB: more than loopback buffers hold for the stalled one
    for (let i = 0; i < n; i++) await server.publish({ seq: i, blob });
    await waitFor(() => fast.messages.length >= n, 30000, `fast client got ${n} events`);
    assert.deepEqual(fast.messages.map((m) => JSON.parse(m.text).seq), [...Array(n).keys()]);
    assert.ok(stalled.messages.length < n, 'the stalled client really was stalled');
    assert.equal(await health(server), 200);
    // The vanished client is noticed and forgotten; the stalled one is still a subscriber.
    await expectClients(server, 2);
    stalled.ws.resume();
    await waitFor(() => stalled.messages.length > 0, 10000, 'the stalled client catching up');
    await closeAll([fast, stalled]);
    await expectClients(server, 0);
  }],

  ['50 concurrent clients all receive the same event', async () => {
    const clients = await Promise.all(Array.from({ length: 50 }, () => open(server.wsUrl)));
    await expectClients(server, 50);
    await server.publish({ type: 'fanout', id: 'all-50' });
    await waitFor(() => clients.every((c) => c.messages.length === 1), 10000, 'all 50 clients');
    for (const c of clients) assert.deepEqual(JSON.parse(c.messages[0].text), { type: 'fanout', id: 'all-50' });
    await closeAll(clients);
    await expectClients(server, 0);
  }],

  ['a 1 MB frame from a client closes that client only; the server keeps serving', async () => {
    const bystander = await open(server.wsUrl);
    const sender = await open(server.wsUrl);
    await expectClients(server, 2);
    sender.ws.send(randomBytes(1024 * 1024));
    await withTimeout(sender.closedP, 10000, 'server closing the oversized sender');
    assert.ok(sender.closeCode === 1009 || sender.closeCode === 1006,
              `close code ${sender.closeCode} (1009: message too big, 1006: dropped)`);
    await server.publish({ after: 'big frame' });
    await waitFor(() => bystander.messages.length === 1, 5000, 'bystander event');
    assert.deepEqual(JSON.parse(bystander.messages[0].text), { after: 'big frame' });
    await closeAll([bystander]);
    await expectClients(server, 0);
  }],

  ['1 MB of raw garbage after the handshake closes that socket; the server keeps serving', async () => {
    const sock = net.connect(server.port, '127.0.0.1');
    await withTimeout(new Promise((r, j) => { sock.once('connect', r); sock.once('error', j); }), 5000, 'tcp connect');
    let received = '';
    sock.on('data', (d) => { received += d.toString('latin1'); });
    sock.on('error', () => {});
    const ended = new Promise((r) => sock.once('close', r));
    sock.write('GET /api/v1/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
               'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
    await waitFor(() => received.includes('\r\n\r\n'), 5000, '101 response');
    assert.match(received, /^HTTP\/1\.1 101/);
    sock.write(randomBytes(1024 * 1024));
    await withTimeout(ended, 10000, 'server closing the garbage socket');
    assert.ok(server.alive(), 'server process still running');
    assert.equal(await health(server), 200);
    const after = await open(server.wsUrl);
    await expectClients(server, 1);
    await server.publish({ still: 'serving' });
    await waitFor(() => after.messages.length === 1, 5000, 'event after garbage');
    await closeAll([after]);
  }],
], async () => {
  for (const s of [server, secured]) {
    const { code, signal } = await s.stop();
    assert.equal(signal, null, `demo server died by ${signal}; stderr:\n${s.stderr}`);
    assert.equal(code, 0, `demo server exit code ${code}; stderr:\n${s.stderr}`);
  }
});
