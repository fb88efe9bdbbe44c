import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { performance } from 'node:perf_hooks';

/**
 * An MCP server as a child process spoken to in raw JSON-RPC lines over its stdio. No SDK Client sits
 * in between, so a timing is the server's work plus the pipe, not the client's validation of replies;
 * the same code drives our server and the bare one.
 */

export interface Reply {
  id: number;
  result?: Record<string, unknown>;
  error?: { code: number; message: string };
  /** performance.now() when the request was written, and when the reply's last chunk arrived. */
  sentAt: number;
  at: number;
  /** Bytes of the reply line. */
  bytes: number;
}

/** Every child still running, so that a failing or interrupted run leaves none behind. */
const live = new Set<ChildProcessWithoutNullStreams>();
export function killAll(): void {
  for (const child of live) child.kill('SIGKILL');
}
process.on('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    killAll();
    process.exit(130);
  });
}

export const PROTOCOL_VERSION = '2025-06-18';

export class RpcChild {
  readonly child: ChildProcessWithoutNullStreams;
  /** performance.now() just before spawn(). */
  readonly spawnedAt: number;
  readonly exited: Promise<number | null>;
  stderr = '';
  #nextId = 1;
  readonly #pending = new Map<number, { sentAt: number; resolve: (reply: Reply) => void }>();
  #partial: Buffer[] = [];

  constructor(command: string, args: string[], env: NodeJS.ProcessEnv) {
    this.spawnedAt = performance.now();
    this.child = spawn(command, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    live.add(this.child);
    this.child.stdout.on('data', (chunk: Buffer) => this.#onData(chunk, performance.now()));
    this.child.stderr.on('data', (chunk: Buffer) => {
      if (this.stderr.length < 65_536) this.stderr += chunk.toString();
    });
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code) => {
        live.delete(this.child);
        for (const [id, { sentAt, resolve: answer }] of this.#pending) {
          answer({ id, error: { code: -1, message: `server exited (${code}) before answering: ${this.stderr.slice(-500)}` }, sentAt, at: performance.now(), bytes: 0 });
        }
        this.#pending.clear();
        resolve(code);
      }),
    );
    this.child.stdin.on('error', () => {}); // EPIPE when the child has gone; the exit handler reports it.
  }

  /** With bench/heap-probe.ts preloaded: a full GC in the server, then its live heap in bytes, from the probe's report. */
  async heapAfterGc(timeoutMs = 5_000): Promise<{ heapUsed: number; rss: number }> {
    const reports = () => this.stderr.split('\n').filter((line) => line.startsWith('HEAP-PROBE ')).length;
    const before = reports();
    this.child.kill('SIGUSR2');
    const deadline = Date.now() + timeoutMs;
    while (reports() === before) {
      if (Date.now() > deadline) throw new Error('the heap probe did not answer');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const line = this.stderr.split('\n').filter((l) => l.startsWith('HEAP-PROBE ')).at(-1)!;
    return JSON.parse(line.slice('HEAP-PROBE '.length));
  }

  get pid(): number {
    return this.child.pid!;
  }

  request(method: string, params?: Record<string, unknown>): Promise<Reply> {
    const id = this.#nextId++;
    return new Promise((resolve) => {
      const line = `${JSON.stringify({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) })}\n`;
      const sentAt = performance.now();
      this.#pending.set(id, { sentAt, resolve });
      this.child.stdin.write(line);
    });
  }

  notify(method: string, params?: Record<string, unknown>): void {
    this.child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', method, ...(params === undefined ? {} : { params }) })}\n`);
  }

  /** initialize, then notifications/initialized: what every client does first. */
  async initialize(): Promise<Reply> {
    const reply = await this.request('initialize', {
      protocolVersion: PROTOCOL_VERSION,
      capabilities: {},
      clientInfo: { name: 'bench', version: '1.0.0' },
    });
    if (reply.error) throw new Error(`initialize failed: ${reply.error.message}`);
    this.notify('notifications/initialized');
    return reply;
  }

  /** A tools/call whose result must not be an error. */
  async call(name: string, args: Record<string, unknown>): Promise<Reply & { result: Record<string, unknown> }> {
    const reply = await this.request('tools/call', { name, arguments: args });
    if (reply.error || !reply.result) throw new Error(`${name}: JSON-RPC error ${JSON.stringify(reply.error)}`);
    if (reply.result.isError) throw new Error(`${name}: tool error ${JSON.stringify(reply.result.content).slice(0, 500)}`);
    return reply as Reply & { result: Record<string, unknown> };
  }

  /** Closes stdin and waits for the exit, killing the process if it lingers. */
  async close(timeoutMs = 5_000): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    this.child.stdin.end();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), timeoutMs)));
    const outcome = await Promise.race([this.exited, late]);
    clearTimeout(timer);
    if (outcome === 'late') {
      this.child.kill('SIGKILL');
      await this.exited;
      throw new Error(`process ${this.pid} did not exit within ${timeoutMs} ms of stdin closing`);
    }
    return outcome;
  }

  #onData(chunk: Buffer, at: number): void {
    let start = 0;
    let newline: number;
    while ((newline = chunk.indexOf(10, start)) !== -1) {
      this.#partial.push(chunk.subarray(start, newline));
      const line = this.#partial.length === 1 ? this.#partial[0]! : Buffer.concat(this.#partial);
      this.#partial = [];
      start = newline + 1;
      this.#onLine(line, at);
    }
    if (start < chunk.length) this.#partial.push(chunk.subarray(start));
  }

  #onLine(line: Buffer, at: number): void {
    if (line.length === 0) return;
    const message = JSON.parse(line.toString('utf8')) as { id?: number | string | null; method?: string; result?: Record<string, unknown>; error?: Reply['error'] };
    if (message.method !== undefined) return; // notifications (progress, list_changed, …): not measured
    if (typeof message.id !== 'number') throw new Error(`unexpected line from the server: ${line.toString('utf8').slice(0, 300)}`);
    const pending = this.#pending.get(message.id);
    if (!pending) return;
    this.#pending.delete(message.id);
    pending.resolve({ id: message.id, result: message.result, error: message.error, sentAt: pending.sentAt, at, bytes: line.length + 1 });
  }
}
