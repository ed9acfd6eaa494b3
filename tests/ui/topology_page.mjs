// The topology page (GET /) in Debian's headless Chromium, driven by playwright-core.
// Usage: node topology_page.mjs <ui_demo_server> <build dir for screenshots>
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DemoServer, need, runChecks, SKIP } from './common.mjs';
import { decodePng } from './png.mjs';

const CHROMIUM = '/usr/bin/chromium';
const [binary, outDir] = process.argv.slice(2);
if (!binary || !outDir) {
  console.error('usage: node topology_page.mjs <ui_demo_server> <screenshot dir>');
  process.exit(2);
}
if (!existsSync(CHROMIUM)) {
  console.log(`SKIP: ${CHROMIUM} missing (Debian package chromium; run ./dev deps)`);
  process.exit(SKIP);
}
const { chromium } = await need('playwright-core');
const TOKEN = 'page-token-7d21';
const NODE_ID = 'demo-node-0001';
const shortId = (id) => (id.length > 12 ? id.slice(0, 12) + '…' : id);
// What the demo server starts with: connected peers show their state, the others "disconnected".
const INITIAL = {
  'peer-alpha': 'healthy',
  'peer-bravo': 'degraded',
  'peer-charlie': 'suspect',
  'peer-delta': 'disconnected',
};
const COLOURS = {
  healthy: [0x3f, 0xb9, 0x50],
  degraded: [0xd2, 0x99, 0x22],
  suspect: [0xdb, 0x6d, 0x28],
  disconnected: [0xf8, 0x51, 0x49],
  self: [0x58, 0xa6, 0xff],
};

const server = await DemoServer.start(binary);
const secured = await DemoServer.start(binary, ['--token', TOKEN]);
const profile = mkdtempSync(join(tmpdir(), 'peat-ui-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: CHROMIUM,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: { width: 1100, height: 640 },
  timeout: 30000,
});
context.setDefaultTimeout(10000);

async function openPage(url) {
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  await page.goto(url);
  return page;
}

// The page's peers as it draws them: circle class per peer id, and the table's rows.
async function drawn(page) {
  return page.evaluate(() => ({
    circles: Object.fromEntries([...document.querySelectorAll('#graph circle[data-peer]')]
      .map((c) => [c.dataset.peer, c.getAttribute('class')])),
    rows: [...document.querySelectorAll('#peers tr')].map((tr) => [...tr.children].map((td) => ({
      text: td.textContent, cls: td.getAttribute('class') }))),
    node: document.getElementById('node').textContent,
    status: document.getElementById('status').textContent,
  }));
}

const waitStatus = (page, text) => page.waitForFunction(
  (t) => document.getElementById('status').textContent === t, text);
const waitPeerClass = (page, id, cls) => page.waitForFunction(
  ([i, c]) => document.querySelector(`#graph circle[data-peer="${i}"]`)?.getAttribute('class') === c,
  [id, cls]);

function checkScreenshot(file) {
  const bytes = readFileSync(file);
  assert.ok(bytes.length > 10000, `screenshot is only ${bytes.length} bytes`);
  const png = decodePng(bytes);
  assert.equal(png.width, 1100);
  assert.equal(png.height, 640);
  const distinct = new Set();
  const counts = Object.fromEntries(Object.keys(COLOURS).map((k) => [k, 0]));
  for (let y = 0; y < png.height; y += 2) {
    for (let x = 0; x < png.width; x += 2) {
      const [r, g, b] = png.pixel(x, y);
      distinct.add((r << 16) | (g << 8) | b);
      for (const [name, [cr, cg, cb]] of Object.entries(COLOURS)) {
        if (Math.abs(r - cr) + Math.abs(g - cg) + Math.abs(b - cb) <= 6) counts[name]++;
      }
    }
  }
  assert.ok(distinct.size > 20, `only ${distinct.size} colours: a blank or broken picture`);
  // Every state's circle (radius 14 → ~150 sampled pixels with its line) is really painted.
  for (const [name, n] of Object.entries(counts)) {
    assert.ok(n > 40, `${name} colour covers only ${n} sampled pixels: ${JSON.stringify(counts)}`);
  }
  return { bytes: bytes.length, colours: distinct.size, counts };
}

let page;
await runChecks([
  ['the page shows the node, one circle per peer with its state, and the table', async () => {
    page = await openPage(server.base + '/');
    await waitStatus(page, 'live');
    await page.waitForFunction(() => document.querySelectorAll('#peers tr').length === 4);
    const d = await drawn(page);
    assert.equal(d.node, 'node ' + NODE_ID);
    assert.deepEqual(d.circles, INITIAL);
    assert.deepEqual(d.rows.map((r) => [r[0].text, r[1].text, r[1].cls, r[2].text]), [
      ['peer-alpha', 'healthy', 'healthy', '4 ms'],
      ['peer-bravo', 'degraded', 'degraded', '35 ms'],
      ['peer-charlie', 'suspect', 'suspect', '180 ms'],
      ['peer-delta', 'disconnected', 'disconnected', '–'],
    ]);
    assert.equal(await page.textContent('#role'), 'role leader · level 1');
    // Layout: the table keeps compact rows instead of stretching to the drawing's height.
    const heights = await page.$$eval('#peers tr', (rows) => rows.map((r) => r.getBoundingClientRect().height));
    assert.ok(heights.every((h) => h > 10 && h < 40), `table row heights ${heights}`);
    // Each peer label sits outside its circle, on the side away from the centre.
    const overlaps = await page.evaluate(() => [...document.querySelectorAll('#graph circle[data-peer]')]
      .filter((c) => {
        const label = c.nextElementSibling.getBBox(), r = 14;
        const x = Number(c.getAttribute('cx')), y = Number(c.getAttribute('cy'));
        return label.x < x + r && label.x + label.width > x - r && label.y < y + r && label.y + label.height > y - r;
      }).map((c) => c.dataset.peer));
    assert.deepEqual(overlaps, []);
    assert.equal(await page.locator('#graph circle.self').count(), 1);
    assert.equal(await page.locator('#graph line').count(), 4);
    assert.deepEqual(page.errors, []);
  }],

  ['a screenshot of it is a real picture with every state colour', async () => {
    const file = join(outDir, 'topology.png');
    await page.screenshot({ path: file });
    const info = checkScreenshot(file);
    console.log(`     ${file}: ${info.bytes} bytes, ${info.colours} colours`);
  }],

  ['a peer change plus a published event updates the page live, without a reload', async () => {
    await page.evaluate(() => { window.peatNoReload = 'still-here'; });
    await server.command('peer state peer-alpha suspect');
    await server.command('peer add peer-echo healthy connected 12');
    await server.command('peer connected peer-delta true');
    await server.publish({ type: 'peer_state_changed', peer: 'peer-alpha', state: 'suspect' });
    await waitPeerClass(page, 'peer-echo', 'healthy');
    const d = await drawn(page);
    assert.deepEqual(d.circles, { ...INITIAL, 'peer-alpha': 'suspect', 'peer-delta': 'dead',
                                  'peer-echo': 'healthy' });
    assert.deepEqual(d.rows.map((r) => r[1].text), ['suspect', 'degraded', 'suspect', 'dead', 'healthy']);
    await page.screenshot({ path: join(outDir, 'topology-live.png') });
    assert.equal(await page.evaluate(() => window.peatNoReload), 'still-here');
    // Back to the start, again by event.
    await server.command('peer remove peer-echo');
    await server.command('peer state peer-alpha healthy');
    await server.command('peer connected peer-delta false');
    await server.publish({ type: 'peer_removed', peer: 'peer-echo' });
    await page.waitForFunction(() => document.querySelectorAll('#graph circle[data-peer]').length === 4);
    assert.deepEqual((await drawn(page)).circles, INITIAL);
    assert.equal(await page.evaluate(() => window.peatNoReload), 'still-here');
    // A burst of events while the state flips: the page ends on the last state, whatever order
    // its overlapping fetches would have finished in.
    for (let i = 0; i < 40; i++) {
      await server.command(`peer state peer-bravo ${i % 2 ? 'healthy' : 'suspect'}`);
      await server.publish({ type: 'peer_state_changed', peer: 'peer-bravo', i });
    }
    await server.command('peer state peer-bravo dead');
    await server.publish({ type: 'peer_state_changed', peer: 'peer-bravo', i: 'last' });
    await waitPeerClass(page, 'peer-bravo', 'dead');
    // Once no redraw is in flight, none brought back an older state.
    await page.waitForFunction(() => running === null);
    assert.deepEqual((await drawn(page)).circles, { ...INITIAL, 'peer-bravo': 'dead' });
    await server.command('peer state peer-bravo degraded');
    await server.publish({ type: 'peer_state_changed', peer: 'peer-bravo' });
    await waitPeerClass(page, 'peer-bravo', 'degraded');
    assert.deepEqual(page.errors, []);
    await page.close();
  }],

  ['with a token, the page opened with #token=... loads and goes live', async () => {
    const p = await openPage(secured.base + '/#token=' + TOKEN);
    await waitStatus(p, 'live');
    await p.waitForFunction(() => document.querySelectorAll('#peers tr').length === 4);
    const d = await drawn(p);
    assert.equal(d.node, 'node ' + NODE_ID);
    assert.deepEqual(d.circles, INITIAL);
    await secured.command('peer state peer-bravo healthy');
    await secured.publish({ type: 'peer_state_changed', peer: 'peer-bravo' });
    await waitPeerClass(p, 'peer-bravo', 'healthy');
    await p.screenshot({ path: join(outDir, 'topology-token.png') });
    assert.deepEqual(p.errors, []);
    await p.close();
  }],

  ['with a token, the page opened without one shows no data and is not live', async () => {
    const p = await openPage(secured.base + '/');
    await waitStatus(p, 'unauthorized: open the page with #token=<bearer token>');
    const d = await drawn(p);
    assert.deepEqual(d.circles, {});
    assert.deepEqual(d.rows, []);
    await p.close();
  }],
], async () => {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
  for (const s of [server, secured]) {
    const { code, signal } = await s.stop();
    assert.equal(signal, null, `demo server died by ${signal}; stderr:\n${s.stderr}`);
    assert.equal(code, 0, `demo server exit code ${code}; stderr:\n${s.stderr}`);
  }
});
