// Shared by the UI tests: start ui_demo_server, talk to it over stdin/stdout, bound every wait.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export const SKIP = 77;

// Imports an npm package from tests/ui/node_modules; exits "skipped" when `./dev deps` has not run.
export async function need(name) {
  try {
    return await import(name);
  } catch (e) {
    console.log(`SKIP: npm package ${name} missing (run ./dev deps): ${e.message}`);
    process.exit(SKIP);
  }
}

export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls `check` (sync or async) every 50 ms until it returns a truthy value or `ms` pass.
export async function waitFor(check, ms, what) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
}

// One running ui_demo_server. Each command() resolves with the server's one-line answer.
export class DemoServer {
  static async start(binary, args = []) {
    const s = new DemoServer(binary, args);
    const first = await withTimeout(s.#nextLine(), 10000, 'demo server port line');
    const m = /^port (\d+)$/.exec(first);
    if (!m) throw new Error(`unexpected first line from demo server: ${first}`);
    s.port = Number(m[1]);
    s.base = `http://127.0.0.1:${s.port}`;
    s.wsUrl = `ws://127.0.0.1:${s.port}/api/v1/ws`;
    return s;
  }

  #lines = [];
  #waiters = [];

  constructor(binary, args) {
    this.proc = spawn(binary, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.stderr = '';
    this.proc.stderr.on('data', (d) => { this.stderr += d; });
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, signal) => resolve({ code, signal })));
    createInterface({ input: this.proc.stdout }).on('line', (line) => {
      const w = this.#waiters.shift();
      if (w) w(line);
      else this.#lines.push(line);
    });
  }

  #nextLine() {
    if (this.#lines.length) return Promise.resolve(this.#lines.shift());
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  async command(line) {
    if (this.proc.exitCode !== null) throw new Error(`demo server exited; stderr:\n${this.stderr}`);
    this.proc.stdin.write(line + '\n');
    const answer = await withTimeout(this.#nextLine(), 10000, `answer to "${line}"`);
    if (answer.startsWith('error')) throw new Error(`demo server: ${answer} (for "${line}")`);
    return answer;
  }

  async clients() {
    return Number((await this.command('clients')).split(' ')[1]);
  }

  async publish(event) {
    return this.command('event ' + JSON.stringify(event));
  }

  alive() {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  // Asks the server to quit; a server that does not exit in time is killed and reported.
  async stop() {
    if (!this.alive()) return this.exited;
    this.proc.stdin.write('quit\n');
    try {
      return await withTimeout(this.exited, 10000, 'demo server exit');
    } catch (e) {
      this.proc.kill('SIGKILL');
      throw e;
    }
  }
}

// Runs the named checks in order, prints one line each, exits 1 on the first failure.
export async function runChecks(checks, cleanup) {
  let failed = false;
  for (const [name, fn] of checks) {
    const t0 = Date.now();
    try {
      await withTimeout(fn(), 60000, name);
      console.log(`ok   ${name} (${Date.now() - t0} ms)`);
    } catch (e) {
      console.log(`FAIL ${name}: ${e.stack || e}`);
      failed = true;
      break;
    }
  }
  try {
    await cleanup();
  } catch (e) {
    console.log(`FAIL cleanup: ${e.stack || e}`);
    failed = true;
  }
  process.exit(failed ? 1 : 0);
}
