/**
 * The measures: each runs servers, checks that every call did its work (a wrong answer fails the run, a slow
 * one never does) and returns figures; bench/report.ts prints them. Servers are spoken to in raw JSON-RPC over
 * stdio (bench/rpc.ts), against the emulator running in this process.
 */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { request } from 'undici';
import type { Emulator } from '../src/emulator/server.js';
import { SinchGroupsClient } from '../src/sinch/client.js';
import { percentile, summarize, type Summary } from './format.js';
import { cpuMsOf, memoryOf, resetPeak } from './proc.js';
import { RpcChild } from './rpc.js';
import type { Servers } from './servers.js';

export interface Setup {
  emulator: Emulator;
  /** The servers' environment: this one's without Sinch settings, plus the emulator's. */
  env: NodeJS.ProcessEnv;
  servers: Servers;
}

export const COUNTS = {
  startupRuns: 20,
  warmupCalls: 100,
  sequentialCalls: 1_000,
  concurrentCalls: 1_000,
  inFlight: 16,
  memoryCalls: 5_000,
  createMembers: 25_000,
  updateAdd: 12_000,
  updateRemove: 11_000,
  findGroups: 300,
  findMembers: 2_000,
  findRuns: 5,
};

export function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`check failed: ${what}`);
}

export const progress = (what: string) => process.stderr.write(`[${(performance.now() / 1000).toFixed(1)} s] ${what}\n`);

const node = (setup: Setup, ...args: string[]) => new RpcChild(process.execPath, args, setup.env);

/** A server spawned, initialized and with its tools listed, as a client leaves it before its first call. */
export async function ready(server: RpcChild): Promise<RpcChild> {
  await server.initialize();
  const list = await server.request('tools/list');
  if (list.error) throw new Error(`tools/list failed: ${list.error.message}`);
  return server;
}

/** Runs `work`, checking that the emulator received exactly `expected` requests meanwhile. */
async function counted<T>(emulator: Emulator, expected: number, work: () => Promise<T>): Promise<T> {
  const before = emulator.requests.length;
  const value = await work();
  const made = emulator.requests.length - before;
  check(made === expected, `the emulator received ${made} requests where ${expected} were expected`);
  return value;
}

// ─── start-up ───

export interface StartupFigures {
  initialize: Summary;
  toolsList: Summary;
  /** CPU (user + system) the server had used when tools/list was answered. */
  cpu: Summary;
}

async function startOnce(spawnServer: () => RpcChild) {
  const server = spawnServer();
  const init = await server.initialize();
  const list = await server.request('tools/list');
  if (list.error) throw new Error(`tools/list failed: ${list.error.message}`);
  const sample = { initialize: init.at - server.spawnedAt, toolsList: list.at - server.spawnedAt, cpu: cpuMsOf(server.pid) };
  check((await server.close()) === 0, 'the server exits 0 when stdin closes');
  return sample;
}

async function emptyNode(): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  check(code === 0, 'node -e "" exits 0');
  return performance.now() - started;
}

/** Spawn → initialize and tools/list answered, for ours and the bare server; and spawn → exit of an empty node. */
export async function measureStartup(setup: Setup) {
  progress(`start-up: ${COUNTS.startupRuns} runs each, interleaved, after a warm-up round`);
  const { servers } = setup;
  const kinds = { ours: () => node(setup, servers.ours), bare: () => node(setup, servers.bare), bareBundled: () => node(setup, servers.bareBundled) };
  const names = Object.keys(kinds) as (keyof typeof kinds)[];
  const samples = Object.fromEntries(names.map((name) => [name, [] as Awaited<ReturnType<typeof startOnce>>[]])) as Record<keyof typeof kinds, Awaited<ReturnType<typeof startOnce>>[]>;
  const empty: number[] = [];
  for (let round = 0; round <= COUNTS.startupRuns; round++) {
    // Round 0 warms the file cache and is dropped; the order rotates so that no kind always goes first.
    for (let k = 0; k <= names.length; k++) {
      const name = names[(round + k) % (names.length + 1)];
      if (name === undefined) {
        const time = await emptyNode();
        if (round > 0) empty.push(time);
      } else {
        const sample = await startOnce(kinds[name]);
        if (round > 0) samples[name].push(sample);
      }
    }
  }
  const of = (name: keyof typeof kinds, key: 'initialize' | 'toolsList' | 'cpu') => summarize(samples[name].map((x) => x[key]));
  const figures = (name: keyof typeof kinds): StartupFigures => ({ initialize: of(name, 'initialize'), toolsList: of(name, 'toolsList'), cpu: of(name, 'cpu') });
  return { ours: figures('ours'), bare: figures('bare'), bareBundled: figures('bareBundled'), emptyNode: summarize(empty) };
}

// ─── per call ───

const KINDS = ['ours', 'directGet', 'client', 'ping', 'proxy'] as const;
export type CallKind = (typeof KINDS)[number];

export interface CallFigures {
  sequential: Summary;
  /** CPU per sequential call of the server process, where there is one, in ms. */
  serverCpu?: number;
  concurrent: { perSecond: number; p50: number; p99: number };
}

/** get_group through our server, against the floor (a direct GET plus a bare MCP round trip) and references. */
export async function measurePerCall(setup: Setup): Promise<Record<CallKind, CallFigures>> {
  const { emulator } = setup;
  const groupId = emulator.store.create({ name: 'Bench get', members: ['14155550100', '14155550101'] }).id;
  const ours = await ready(node(setup, setup.servers.ours));
  const bare = await ready(node(setup, setup.servers.bare));
  const proxy = await ready(node(setup, setup.servers.bareProxy));
  const client = new SinchGroupsClient({ baseUrl: emulator.url, servicePlanId: emulator.servicePlanId, apiToken: emulator.apiToken });
  const url = `${emulator.url}/xms/v1/${emulator.servicePlanId}/groups/${groupId}`;
  const headers = { authorization: `Bearer ${emulator.apiToken}`, accept: 'application/json' };
  const timed = async (work: () => Promise<boolean>, what: string) => {
    const t0 = performance.now();
    check(await work(), what);
    return performance.now() - t0;
  };
  const once: Record<CallKind, () => Promise<number>> = {
    ours: async () => {
      const reply = await ours.call('get_group', { group_id: groupId });
      check((reply.result.structuredContent as { id?: string } | undefined)?.id === groupId, 'get_group returns the group');
      return reply.at - reply.sentAt;
    },
    directGet: () =>
      timed(async () => {
        const response = await request(url, { headers });
        return response.statusCode === 200 && (JSON.parse(await response.body.text()) as { id?: string }).id === groupId;
      }, 'a direct GET returns the group'),
    client: () => timed(async () => (await client.getGroup(groupId)).id === groupId, 'SinchGroupsClient.getGroup returns the group'),
    ping: async () => ((reply) => reply.at - reply.sentAt)(await bare.call('ping', {})),
    proxy: async () => {
      const reply = await proxy.call('get_group', { group_id: groupId });
      check(JSON.stringify(reply.result.content).includes(groupId), 'the bare proxy returns the group');
      return reply.at - reply.sentAt;
    },
  };
  const sinchPerCall = (kind: CallKind) => (kind === 'ping' ? 0 : 1);
  const serverOf: Partial<Record<CallKind, RpcChild>> = { ours, ping: bare, proxy };

  const sequential = async (kind: CallKind, count: number) => {
    const latencies: number[] = [];
    for (let i = 0; i < count; i++) latencies.push(await once[kind]());
    return latencies;
  };
  const concurrent = async (kind: CallKind, count: number) => {
    const latencies: number[] = [];
    let started = 0;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: COUNTS.inFlight }, async () => {
      while (started++ < count) latencies.push(await once[kind]());
    }));
    return { latencies, wallMs: performance.now() - t0 };
  };
  /** Each kind's calls in interleaved blocks, rotating which goes first, so that other load falls on all alike. */
  const interleaved = async <T>(total: number, blocks: number, run: (kind: CallKind, count: number) => Promise<T>) => {
    const results = Object.fromEntries(KINDS.map((kind) => [kind, [] as T[]])) as Record<CallKind, T[]>;
    const cpuMs = Object.fromEntries(KINDS.map((kind) => [kind, 0])) as Record<CallKind, number>;
    for (let block = 0; block < blocks; block++) {
      for (let k = 0; k < KINDS.length; k++) {
        const kind = KINDS[(block + k) % KINDS.length]!;
        const count = total / blocks;
        const pid = serverOf[kind]?.pid;
        const cpuBefore = pid === undefined ? 0 : cpuMsOf(pid);
        results[kind].push(await counted(emulator, count * sinchPerCall(kind), () => run(kind, count)));
        if (pid !== undefined) cpuMs[kind] += cpuMsOf(pid) - cpuBefore;
      }
    }
    return { results, cpuMs };
  };

  progress(`per call: ${COUNTS.warmupCalls} warm-up calls, then ${COUNTS.sequentialCalls} sequential and ${COUNTS.concurrentCalls} with ${COUNTS.inFlight} in flight, each kind`);
  for (const kind of KINDS) await counted(emulator, COUNTS.warmupCalls * sinchPerCall(kind), () => sequential(kind, COUNTS.warmupCalls));
  const seq = await interleaved(COUNTS.sequentialCalls, 10, sequential);
  const con = await interleaved(COUNTS.concurrentCalls, 4, concurrent);
  await client.close();
  await Promise.all([ours.close(), bare.close(), proxy.close()]);
  const figures = (kind: CallKind): CallFigures => {
    const latencies = con.results[kind].flatMap((run) => run.latencies);
    const wallMs = con.results[kind].reduce((sum, run) => sum + run.wallMs, 0);
    return {
      sequential: summarize(seq.results[kind].flat()),
      ...(serverOf[kind] ? { serverCpu: seq.cpuMs[kind] / COUNTS.sequentialCalls } : {}),
      concurrent: { perSecond: (latencies.length / wallMs) * 1000, p50: percentile(latencies, 50), p99: percentile(latencies, 99) },
    };
  };
  return Object.fromEntries(KINDS.map((kind) => [kind, figures(kind)])) as Record<CallKind, CallFigures>;
}

// ─── large groups ───

export interface LargeStep {
  step: string;
  wallMs: number;
  /** Sinch requests by HTTP method, e.g. "1 GET, 3 POST". */
  sinchRequests: string;
  requestBytes: number;
  replyBytes: number;
  /** The server's peak RSS during the step (since start where the peak could not be reset). */
  peakKiB: number;
  peakIsForStep: boolean;
  detail: string;
}

/** Distinct, possible US numbers: +1 415 200 0000 and up. */
const numbers = (from: number, count: number) => Array.from({ length: count }, (_, i) => `+1415${2_000_000 + from + i}`);
const jsonBytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value));

/** Create a 25,000-member group, update it by +12,000 −11,000, and walk its members, through MCP. */
export async function measureLargeGroups(setup: Setup, server: RpcChild) {
  const { emulator } = setup;
  const steps: LargeStep[] = [];
  const step = async (name: string, work: () => Promise<{ requestBytes: number; replyBytes: number; detail: string }>) => {
    progress(`large groups: ${name}`);
    const peakIsForStep = resetPeak(server.pid);
    const before = emulator.requests.length;
    const t0 = performance.now();
    const result = await work();
    const wallMs = performance.now() - t0;
    const byMethod = new Map<string, number>();
    for (const { method } of emulator.requests.slice(before)) byMethod.set(method, (byMethod.get(method) ?? 0) + 1);
    const sinchRequests = [...byMethod].map(([method, count]) => `${count} ${method}`).join(', ');
    steps.push({ step: name, wallMs, sinchRequests, peakKiB: memoryOf(server.pid).peakKiB, peakIsForStep, ...result });
  };
  const rssBeforeKiB = memoryOf(server.pid).rssKiB;
  let groupId = '';
  await step(`create_group, ${COUNTS.createMembers.toLocaleString('en-US')} members`, async () => {
    const args = { name: 'Bench 25k', members: numbers(0, COUNTS.createMembers) };
    const reply = await server.call('create_group', args);
    groupId = (reply.result.structuredContent as { id: string }).id;
    const size = emulator.store.members(groupId).length;
    check(size === COUNTS.createMembers, `the created group has ${size} members`);
    return { requestBytes: jsonBytes(args), replyBytes: reply.bytes, detail: `${size.toLocaleString('en-US')} members` };
  });
  const expected = COUNTS.createMembers + COUNTS.updateAdd - COUNTS.updateRemove;
  await step(`update_group, +${COUNTS.updateAdd.toLocaleString('en-US')} −${COUNTS.updateRemove.toLocaleString('en-US')}`, async () => {
    // Removing 11,000 of 25,000 members asks for confirmation; the bench gives it up front, as a user who agreed would.
    const args = { group_id: groupId, add: numbers(COUNTS.createMembers, COUNTS.updateAdd), remove: numbers(0, COUNTS.updateRemove), confirm: true };
    const reply = await server.call('update_group', args);
    const size = emulator.store.members(groupId).length;
    check(size === expected, `the updated group has ${size} members, not ${expected}`);
    return { requestBytes: jsonBytes(args), replyBytes: reply.bytes, detail: `${size.toLocaleString('en-US')} members` };
  });
  await step('list_group_members, every page', async () => {
    const seen = new Set<string>();
    let cursor: string | undefined;
    let pages = 0;
    let requestBytes = 0;
    let replyBytes = 0;
    do {
      const args = { group_id: groupId, ...(cursor === undefined ? {} : { cursor }) };
      requestBytes += jsonBytes(args);
      const reply = await server.call('list_group_members', args);
      const page = reply.result.structuredContent as { members: string[]; next_cursor?: string };
      for (const number of page.members) seen.add(number);
      replyBytes += reply.bytes;
      cursor = page.next_cursor;
      pages++;
    } while (cursor !== undefined);
    check(seen.size === expected, `walked ${seen.size} distinct members of ${expected}`);
    return { requestBytes, replyBytes, detail: `${pages} pages, ${seen.size.toLocaleString('en-US')} numbers` };
  });
  return { groupId, rssBeforeKiB, steps };
}

// ─── context cost ───

interface ListedTool {
  name: string;
  description?: string;
  inputSchema?: unknown;
  outputSchema?: unknown;
}

/** The bytes of what tools/list puts before a model, per tool, and of two typical results. */
export async function measureContext(setup: Setup, server: RpcChild, largeGroupId: string) {
  progress('context cost');
  const list = await server.request('tools/list');
  const tools = (list.result as { tools: ListedTool[] }).tools;
  const perTool = tools.map((tool) => ({
    name: tool.name,
    bytes: jsonBytes(tool),
    // What a model is given of a tool: its name, description and input schema.
    modelBytes: jsonBytes({ name: tool.name, description: tool.description, inputSchema: tool.inputSchema }),
    descriptionBytes: Buffer.byteLength(tool.description ?? ''),
    inputSchemaBytes: tool.inputSchema === undefined ? 0 : jsonBytes(tool.inputSchema),
    outputSchemaBytes: tool.outputSchema === undefined ? 0 : jsonBytes(tool.outputSchema),
  }));
  for (let i = 0; i < 10; i++) setup.emulator.store.create({ name: `Region ${i + 1}`, members: numbers(100_000 + i * 100, 5 + i * 5).map((n) => n.slice(1)) });
  const result = async (name: string, args: Record<string, unknown>) => {
    const reply = await server.call(name, args);
    const text = ((reply.result.content as { text?: string }[] | undefined) ?? []).map((part) => part.text ?? '').join('');
    return { whole: jsonBytes(reply.result), text: Buffer.byteLength(text), structured: jsonBytes(reply.result.structuredContent), structuredContent: reply.result.structuredContent };
  };
  const groups = await result('list_groups', { page_size: 10 });
  const members = await result('list_group_members', { group_id: largeGroupId });
  check((groups.structuredContent as { groups: unknown[] }).groups.length === 10, 'list_groups returns 10 groups');
  check((members.structuredContent as { members: unknown[] }).members.length === 1_000, 'list_group_members returns 1,000 numbers');
  return {
    perTool,
    toolsArrayBytes: jsonBytes(tools),
    modelBytesPerTool: perTool.reduce((sum, tool) => sum + tool.modelBytes, 0) / tools.length,
    toolsListBytesPerTool: jsonBytes(tools) / tools.length,
    results: [
      { what: 'list_groups, 10 groups', ...groups },
      { what: 'list_group_members, 1,000 numbers', ...members },
    ],
  };
}

// ─── across groups ───

/**
 * find_numbers and list_groups' name search over many groups: every group's members are read once, so this
 * is Sinch's round trips, bounded by SINCH_CONCURRENCY, more than our own work. The groups are made in the
 * emulator directly, in place of the groups there before, and removed afterwards.
 */
export async function measureAcrossGroups(setup: Setup, server: RpcChild) {
  const { emulator } = setup;
  progress(`across groups: ${COUNTS.findGroups} groups of ${COUNTS.findMembers} members`);
  emulator.store.clear();
  const members = (g: number) => numbers(200_000 + g * 1_000, COUNTS.findMembers).map((n) => n.slice(1));
  for (let g = 0; g < COUNTS.findGroups; g++) emulator.store.create({ name: `Bench ${g}`, members: members(g) });
  // Ranges overlap: the first number is in one group, the second in two, the last in none.
  const wanted = [numbers(200_000, 1)[0]!, numbers(200_000 + 150 * 1_000, 1)[0]!, '+14155550100'];
  const timed = async (name: string, args: Record<string, unknown>) => {
    const t0 = performance.now();
    const reply = await server.call(name, args);
    return { wallMs: performance.now() - t0, bytes: reply.bytes, result: reply.result.structuredContent as Record<string, unknown> };
  };
  const finds = [];
  for (let run = 0; run < COUNTS.findRuns; run++) {
    const find = await timed('find_numbers', { numbers: wanted });
    const holding = (find.result.numbers as { number: string; groups: unknown[] }[]).map(({ number, groups }) => `${number}: ${groups.length}`).join(', ');
    check(find.result.searched === COUNTS.findGroups && holding === `${wanted[0]}: 1, ${wanted[1]}: 2, ${wanted[2]}: 0`, `find_numbers found ${holding}`);
    finds.push(find);
  }
  const byName = await timed('list_groups', { name: 'Bench 299' });
  check((byName.result.groups as unknown[]).length === 1, 'list_groups found one group by name');
  emulator.store.clear();
  return { find: summarize(finds.map((find) => find.wallMs)), findReplyBytes: finds[0]!.bytes, nameMs: byName.wallMs, nameReplyBytes: byName.bytes };
}

// ─── memory ───

export interface MemoryPoint {
  rssKiB: number;
  /** Live JS heap after a full GC, in bytes. */
  heapUsed: number;
}

/** RSS and live heap of ours and of the bare server: idle after tools/list, then after many calls. */
export async function measureMemory(setup: Setup) {
  const { emulator, servers } = setup;
  const groupId = emulator.store.create({ name: 'Bench memory', members: ['14155550100'] }).id;
  const measureOne = async (entry: string, call: (server: RpcChild) => Promise<unknown>, sinchPerCall: number) => {
    // --expose-gc and the probe change nothing until the probe is signalled, after the RSS is read.
    const server = await ready(node(setup, '--expose-gc', '--import', servers.heapProbe, entry));
    const point = async (): Promise<MemoryPoint> => ({ rssKiB: memoryOf(server.pid).rssKiB, heapUsed: (await server.heapAfterGc()).heapUsed });
    const idle = await point();
    await counted(emulator, COUNTS.memoryCalls * sinchPerCall, async () => {
      for (let i = 0; i < COUNTS.memoryCalls; i++) await call(server);
    });
    const afterCalls = await point();
    await server.close();
    return { idle, afterCalls };
  };
  progress(`memory: idle, and after ${COUNTS.memoryCalls} calls, ours and bare`);
  return {
    ours: await measureOne(servers.ours, (server) => server.call('get_group', { group_id: groupId }), 1),
    bare: await measureOne(servers.bare, (server) => server.call('ping', {}), 0),
  };
}
