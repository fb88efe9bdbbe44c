/**
 * Benchmarks of the MCP server as clients run it: the built CLI (dist/cli/index.js) spawned over stdio,
 * against the local Sinch emulator started here (so the embedded emulator is no part of start-up).
 * `npm run bench` builds first; prints tables and writes bench/results.json. Not a test: nothing here
 * fails on a slow figure, only on a wrong answer (e.g. a call that did not reach Sinch).
 *
 * Environment: BENCH_CLI overrides the server's entry (default dist/cli/index.js).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { getGlobalDispatcher, request } from 'undici';
import { startEmulator, type Emulator } from '../src/emulator/server.js';
import { SinchGroupsClient } from '../src/sinch/client.js';
import { bundleEntries } from './bundle.js';
import { cpuMsOf, killAll, memoryOf, resetPeak, RpcChild, type Reply } from './rpc.js';
import { heading, int, mib, ms, percentile, ratio, rounded, summarize, table, us, type Summary } from './report.js';
import { breakdown, importCosts } from './breakdown.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = process.env.BENCH_CLI ?? `${ROOT}dist/cli/index.js`;
const BARE = `${ROOT}bench/bare-server.mjs`;
const HEAP_PROBE = `${ROOT}bench/heap-probe.mjs`;
const BARE_PROXY = `${ROOT}bench/bare-proxy.mjs`;
const RESULTS = `${ROOT}bench/results.json`;

const COUNTS = {
  startupRuns: 20,
  warmupCalls: 100,
  sequentialCalls: 1_000,
  concurrentCalls: 1_000,
  inFlight: 16,
  memoryCalls: 10_000,
  createMembers: 25_000,
  updateAdd: 12_000,
  updateRemove: 11_000,
};

// The per-tool byte limits are the ones test/portable-schemas.test.ts enforces.
const TARGETS = { startupRatio: 1.3, perCallRatio: 1.5, toolsListBytes: 8_192, modelBytesPerTool: 900, toolsListBytesPerTool: 1_500 };

const began = performance.now();
function print(text = ''): void {
  process.stdout.write(`${text}\n`);
}
const step = (what: string) => process.stderr.write(`[${((performance.now() - began) / 1000).toFixed(1)} s] ${what}\n`);

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`check failed: ${what}`);
}

/** This machine's environment without any Sinch setting, plus the ones given. */
function envWith(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('SINCH_') && !name.startsWith('NODE_OPTIONS')));
  return { ...env, ...extra };
}

let emulator: Emulator;
let serverEnv: NodeJS.ProcessEnv;

const spawnOurs = () => new RpcChild(process.execPath, [CLI], serverEnv);
const spawnBare = () => new RpcChild(process.execPath, [BARE], serverEnv);
let bareBundled = '';
const spawnBareBundled = () => new RpcChild(process.execPath, [bareBundled], serverEnv);

/** A server spawned, initialized and with its tools listed, as a client leaves it before its first call. */
async function ready(spawnServer: () => RpcChild): Promise<RpcChild> {
  const server = spawnServer();
  await server.initialize();
  const list = await server.request('tools/list');
  if (list.error) throw new Error(`tools/list failed: ${list.error.message}`);
  return server;
}

// ───────────────────────────────────────── 1. start-up ─────────────────────────────────────────

interface StartupSample {
  initialize: number;
  toolsList: number;
  /** CPU time (user + system) the server had used when tools/list was answered. */
  cpu: number;
}

async function startOnce(spawnServer: () => RpcChild): Promise<StartupSample> {
  const server = spawnServer();
  const init = await server.initialize();
  const list = await server.request('tools/list');
  if (list.error) throw new Error(`tools/list failed: ${list.error.message}`);
  const sample = { initialize: init.at - server.spawnedAt, toolsList: list.at - server.spawnedAt, cpu: cpuMsOf(server.pid) };
  const code = await server.close();
  check(code === 0, `server exited with ${code} after stdin closed`);
  return sample;
}

async function emptyNode(): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  const [code] = await new Promise<[number | null]>((resolve) => child.once('exit', (exitCode) => resolve([exitCode])));
  check(code === 0, 'node -e "" exits 0');
  return performance.now() - started;
}

async function startup() {
  step(`start-up: ${COUNTS.startupRuns} runs each of ours, bare, bare bundled and node -e "" (interleaved, after one warm-up round)`);
  const ours: StartupSample[] = [];
  const bare: StartupSample[] = [];
  const bundled: StartupSample[] = [];
  const empty: number[] = [];
  const kinds = [
    async (keep: boolean) => {
      const sample = await startOnce(spawnOurs);
      if (keep) ours.push(sample);
    },
    async (keep: boolean) => {
      const sample = await startOnce(spawnBare);
      if (keep) bare.push(sample);
    },
    async (keep: boolean) => {
      const sample = await startOnce(spawnBareBundled);
      if (keep) bundled.push(sample);
    },
    async (keep: boolean) => {
      const sample = await emptyNode();
      if (keep) empty.push(sample);
    },
  ];
  for (let round = 0; round <= COUNTS.startupRuns; round++) {
    // Round 0 warms the file cache and is discarded; the order rotates so that none always goes first.
    for (let k = 0; k < kinds.length; k++) await kinds[(round + k) % kinds.length]!(round > 0);
  }
  const both = (samples: StartupSample[]) => ({
    initialize: summarize(samples.map((x) => x.initialize)),
    toolsList: summarize(samples.map((x) => x.toolsList)),
    cpu: summarize(samples.map((x) => x.cpu)),
  });
  const s = { ours: both(ours), bare: both(bare), bareBundled: both(bundled), emptyNode: summarize(empty) };
  const ratioInit = s.ours.initialize.median / s.bare.initialize.median;
  const ratioList = s.ours.toolsList.median / s.bare.toolsList.median;
  const ratioBundled = s.ours.toolsList.median / s.bareBundled.toolsList.median;

  print(heading(`1. Start-up (spawn → answered; ${COUNTS.startupRuns} runs each, interleaved; raw JSON-RPC over stdio)`));
  const row = (name: string, x: ReturnType<typeof both>) => [
    name,
    ms(x.initialize.median, 1),
    ms(x.initialize.p90, 1),
    ms(x.toolsList.median, 1),
    ms(x.toolsList.p90, 1),
    ms(x.toolsList.min, 1),
    ms(x.toolsList.max, 1),
    ms(x.cpu.median, 0),
  ];
  print(
    table(
      ['process', 'initialize p50', 'initialize p90', 'tools/list p50', 'tools/list p90', 'min', 'max', 'CPU used p50 ¶'],
      [
        row('(a) ours: node dist/cli/index.js', s.ours),
        row('(b) bare: SDK + 1 tool (bench/bare-server.mjs)', s.bare),
        row('    bare, bundled by esbuild like ours †', s.bareBundled),
        ['(c) empty: node -e "" (spawn → exit)', '', '', ms(s.emptyNode.median, 1) + ' *', ms(s.emptyNode.p90, 1) + ' *', ms(s.emptyNode.min, 1), ms(s.emptyNode.max, 1), ''],
      ],
    ),
  );
  print('  * spawn → exit of an empty node process: the cost of node itself, under every server.');
  print('  ¶ user + system CPU of the server process when tools/list was answered (/proc/<pid>/stat, 10 ms ticks): less swayed by other load than wall time.');
  print('  † reference only: (b) loads the SDK as many files from node_modules, ours is one bundle; this row is the same bare server as one bundle.');
  print(
    table(
      ['ratio (medians)', 'initialize', 'tools/list'],
      [
        ['ours / bare', ratio(ratioInit), ratio(ratioList)],
        ['ours / bare bundled †', ratio(s.ours.initialize.median / s.bareBundled.initialize.median), ratio(ratioBundled)],
        ['CPU used: ours / bare ¶', '', ratio(s.ours.cpu.median / s.bare.cpu.median)],
        ['CPU used: ours / bare bundled ¶', '', ratio(s.ours.cpu.median / s.bareBundled.cpu.median)],
        ['ours − bare', ms(s.ours.initialize.median - s.bare.initialize.median, 1), ms(s.ours.toolsList.median - s.bare.toolsList.median, 1)],
        ['ours − empty node', ms(s.ours.initialize.median - s.emptyNode.median, 1), ms(s.ours.toolsList.median - s.emptyNode.median, 1)],
        ['bare − empty node', ms(s.bare.initialize.median - s.emptyNode.median, 1), ms(s.bare.toolsList.median - s.emptyNode.median, 1)],
      ],
    ),
  );
  return {
    ...s,
    ratio: {
      initialize: ratioInit,
      toolsList: ratioList,
      toolsListVsBareBundled: ratioBundled,
      cpuVsBare: s.ours.cpu.median / s.bare.cpu.median,
      cpuVsBareBundled: s.ours.cpu.median / s.bareBundled.cpu.median,
    },
  };
}

// ───────────────────────────────────────── 2. per call ─────────────────────────────────────────

async function sequential(count: number, once: () => Promise<number>): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < count; i++) latencies.push(await once());
  return latencies;
}

/** `count` calls with `inFlight` at once; latencies and calls per second. */
async function concurrent(count: number, inFlight: number, once: () => Promise<number>): Promise<{ latencies: number[]; perSecond: number; wallMs: number }> {
  const latencies: number[] = [];
  let started = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (started < count) {
        started++;
        latencies.push(await once());
      }
    }),
  );
  const wallMs = performance.now() - t0;
  return { latencies, perSecond: (count / wallMs) * 1000, wallMs };
}

async function perCall() {
  const group = emulator.store.create({ name: 'Bench get', members: ['14155550100', '14155550101', '447700900123'] });
  const groupId = group.id;
  const ours = await ready(spawnOurs);
  const bare = await ready(spawnBare);
  const proxy = await ready(() => new RpcChild(process.execPath, [BARE_PROXY], serverEnv));
  const proxyGet = async () => {
    const reply = await proxy.call('get_group', { group_id: groupId });
    check(JSON.stringify(reply.result.content).includes(groupId), 'the bare proxy returns the group');
    return reply.at - reply.sentAt;
  };
  const getGroup = async () => {
    const reply = await ours.call('get_group', { group_id: groupId });
    check((reply.result.structuredContent as { id?: string } | undefined)?.id === groupId, 'get_group returns the group');
    return reply.at - reply.sentAt;
  };
  const ping = async () => {
    const reply = await bare.call('ping', {});
    return reply.at - reply.sentAt;
  };
  const url = `${emulator.url}/xms/v1/${emulator.servicePlanId}/groups/${groupId}`;
  const headers = { authorization: `Bearer ${emulator.apiToken}`, accept: 'application/json' };
  const directGet = async () => {
    const t0 = performance.now();
    const response = await request(url, { headers });
    const body = JSON.parse(await response.body.text()) as { id?: string };
    check(response.statusCode === 200 && body.id === groupId, 'direct GET returns the group');
    return performance.now() - t0;
  };
  // The server's own Sinch client, in this process: the HTTP path of get_group without MCP.
  const client = new SinchGroupsClient({ baseUrl: emulator.url, servicePlanId: emulator.servicePlanId, apiToken: emulator.apiToken });
  const clientGet = async () => {
    const t0 = performance.now();
    const read = await client.getGroup(groupId);
    check(read.id === groupId, 'SinchGroupsClient.getGroup returns the group');
    return performance.now() - t0;
  };
  /** Runs `work`, checking that the emulator received exactly `expected` more requests. */
  const counted = async <T>(expected: number, work: () => Promise<T>): Promise<{ value: T; requests: number }> => {
    const before = emulator.requests.length;
    const value = await work();
    const requests = emulator.requests.length - before;
    check(requests === expected, `the emulator received ${requests} requests for ${expected} calls (one each expected)`);
    return { value, requests };
  };

  step(`per call: ${COUNTS.warmupCalls} warm-up calls each, then ${COUNTS.sequentialCalls} sequential calls of get_group, direct GET, the client in-process, bare ping and bare proxy`);
  const kinds = { ours: getGroup, get: directGet, client: clientGet, ping, proxy: proxyGet };
  const sinchPerCall = { ours: 1, get: 1, client: 1, ping: 0, proxy: 1 };
  /** The server process behind each kind, whose CPU is counted; the others run in this process. */
  const serverOf: Partial<Record<keyof typeof kinds, RpcChild>> = { ours, ping: bare, proxy };
  type Kind = keyof typeof kinds;
  const names = Object.keys(kinds) as Kind[];
  for (const name of names) await counted(COUNTS.warmupCalls * sinchPerCall[name], () => sequential(COUNTS.warmupCalls, kinds[name]));
  /**
   * Each kind's calls in BLOCKS interleaved blocks, rotating which goes first, so that the load of
   * anything else on the machine falls on every kind alike; the Sinch requests are checked per block.
   */
  const interleaved = async <T>(total: number, blocks: number, run: (count: number, once: () => Promise<number>) => Promise<T>) => {
    const results = Object.fromEntries(names.map((name) => [name, [] as T[]])) as Record<Kind, T[]>;
    const requests = Object.fromEntries(names.map((name) => [name, 0])) as Record<Kind, number>;
    const cpuMs = Object.fromEntries(names.map((name) => [name, 0])) as Record<Kind, number>;
    const benchCpuMs = Object.fromEntries(names.map((name) => [name, 0])) as Record<Kind, number>;
    for (let block = 0; block < blocks; block++) {
      for (let k = 0; k < names.length; k++) {
        const name = names[(block + k) % names.length]!;
        const count = Math.floor(total / blocks) + (block < total % blocks ? 1 : 0);
        const pid = serverOf[name]?.pid;
        const cpuBefore = pid === undefined ? 0 : cpuMsOf(pid);
        const benchBefore = process.cpuUsage();
        const { value, requests: made } = await counted(count * sinchPerCall[name], () => run(count, kinds[name]));
        const bench = process.cpuUsage(benchBefore);
        benchCpuMs[name] += (bench.user + bench.system) / 1000;
        if (pid !== undefined) cpuMs[name] += cpuMsOf(pid) - cpuBefore;
        results[name].push(value);
        requests[name] += made;
      }
    }
    return { results, requests, cpuMs, benchCpuMs };
  };
  const seq = await interleaved(COUNTS.sequentialCalls, 10, sequential);
  step(`per call: ${COUNTS.concurrentCalls} calls with ${COUNTS.inFlight} in flight, each kind`);
  const con = await interleaved(COUNTS.concurrentCalls, 4, (count, once) => concurrent(count, COUNTS.inFlight, once));
  await client.close();
  const latencies = (name: Kind) => ({
    value: seq.results[name].flat(),
    requests: seq.requests[name],
    cpuUsPerCall: (seq.cpuMs[name] * 1000) / COUNTS.sequentialCalls,
    benchCpuUsPerCall: (seq.benchCpuMs[name] * 1000) / COUNTS.sequentialCalls,
  });
  const merged = (name: Kind) => {
    const runs = con.results[name];
    const wallMs = runs.reduce((sum, run) => sum + run.wallMs, 0);
    const calls = runs.reduce((sum, run) => sum + run.latencies.length, 0);
    return { value: { latencies: runs.flatMap((run) => run.latencies), wallMs, perSecond: (calls / wallMs) * 1000 }, requests: con.requests[name] };
  };
  const seqOurs = latencies('ours');
  const seqGet = latencies('get');
  const seqClient = latencies('client');
  const seqPing = latencies('ping');
  const seqProxy = latencies('proxy');
  const conOurs = merged('ours');
  const conClient = merged('client');
  const conGet = merged('get');
  const conPing = merged('ping');
  const conProxy = merged('proxy');
  const sOurs = summarize(seqOurs.value);
  const sGet = summarize(seqGet.value);
  const sPing = summarize(seqPing.value);
  const sClient = summarize(seqClient.value);
  const sProxy = summarize(seqProxy.value);
  const floor = { median: sGet.median + sPing.median, p99: sGet.p99 + sPing.p99 };
  const perCallRatio = sOurs.median / floor.median;
  await ours.close();
  await bare.close();
  await proxy.close();

  print(heading(`2. Per call (get_group through MCP over stdio vs the floor; ${int(COUNTS.sequentialCalls)} sequential calls each, in 10 interleaved blocks, after ${COUNTS.warmupCalls} warm-up)`));
  const cpu = (value: number) => `${value.toFixed(0)} µs`;
  const row = (name: string, s: Summary, x: { requests: number; cpuUsPerCall?: number; benchCpuUsPerCall: number }, server = true) => [
    name,
    ms(s.median, 3),
    ms(s.p90, 3),
    ms(s.p99, 3),
    ms(s.min, 3),
    ms(s.max, 2),
    server && x.cpuUsPerCall !== undefined ? cpu(x.cpuUsPerCall) : '',
    cpu(x.benchCpuUsPerCall),
    `+${int(x.requests)}`,
  ];
  const blank = (...cells: string[]) => [...cells, ...Array(9 - cells.length).fill('')];
  print(
    table(
      ['sequential', 'p50', 'p90', 'p99', 'min', 'max', 'server CPU ¶', 'bench CPU ¶', 'Sinch requests'],
      [
        row('ours: tools/call get_group', sOurs, seqOurs),
        row('direct GET with undici', sGet, seqGet, false),
        row('bare: tools/call ping (1 MCP round trip)', sPing, seqPing),
        blank('floor = direct GET + bare round trip', ms(floor.median, 3), '', ms(floor.p99, 3)),
        blank('ours / floor', ratio(perCallRatio), '', ratio(sOurs.p99 / floor.p99)),
        blank('ours − floor (our own work per call)', us(sOurs.median - floor.median)),
        row('  of which: SinchGroupsClient.getGroup in-process ‡', sClient, seqClient, false),
        blank('  client − direct GET (URL, retry interceptor, zod parse)', us(sClient.median - sGet.median), '', '', '', '', '', cpu(seqClient.benchCpuUsPerCall - seqGet.benchCpuUsPerCall)),
        blank('  ours − client − bare (our MCP layer: args, result, JSON)', us(sOurs.median - sClient.median - sPing.median)),
        row('bare proxy: bare tool sending the same GET §', sProxy, seqProxy),
        blank('ours / bare proxy', ratio(sOurs.median / sProxy.median), '', ratio(sOurs.p99 / sProxy.p99), '', '', ratio(seqOurs.cpuUsPerCall / seqProxy.cpuUsPerCall)),
        blank('bare proxy / floor (the extra process hops alone)', ratio(sProxy.median / floor.median), '', ratio(sProxy.p99 / floor.p99)),
      ],
    ),
  );
  print('  ¶ user + system CPU per call (all threads) of the server process (/proc/<pid>/stat) and of this process (emulator, client side),');
  print('    over all the blocks: steadier than latency when other work shares the machine.');
  print('  § bench/bare-proxy.mjs: one tool, zod input { group_id: string }, undici GET, reply text returned as is (no output schema, retries or checks):');
  print('    unlike the floor it pays the same process hops as ours (bench → server → emulator in the bench → server → bench).');
  print('  ‡ src/sinch/client.ts run in this process against the same emulator: the HTTP part of get_group without MCP or stdio.');
  print(`  Every get_group reached Sinch: the emulator received exactly one request per call (+${int(seqOurs.requests)} for ${int(COUNTS.sequentialCalls)} sequential, +${int(conOurs.requests)} for ${int(COUNTS.concurrentCalls)} concurrent).`);
  const crow = (name: string, c: { latencies: number[]; perSecond: number; wallMs: number }, requests: number) => [
    name,
    `${int(c.perSecond)}/s`,
    ms(c.wallMs, 0),
    ms(percentile(c.latencies, 50), 2),
    ms(percentile(c.latencies, 99), 2),
    `+${int(requests)}`,
  ];
  print('');
  print(
    table(
      [`${COUNTS.inFlight} in flight, ${int(COUNTS.concurrentCalls)} calls`, 'throughput', 'wall', 'p50', 'p99', 'Sinch requests'],
      [
        crow('ours: get_group', conOurs.value, conOurs.requests),
        crow('direct GET with undici', conGet.value, conGet.requests),
        crow('SinchGroupsClient.getGroup in-process ‡', conClient.value, conClient.requests),
        crow('bare: ping', conPing.value, 0),
        crow('bare proxy: get_group §', conProxy.value, conProxy.requests),
      ],
    ),
  );
  const c = (x: { latencies: number[]; perSecond: number; wallMs: number }) => ({ perSecond: x.perSecond, wallMs: x.wallMs, ...summarize(x.latencies) });
  return {
    sequential: {
      ours: sOurs,
      directGet: sGet,
      clientInProcess: sClient,
      bareToolCall: sPing,
      bareProxy: sProxy,
      serverCpuUsPerCall: { ours: seqOurs.cpuUsPerCall, bareToolCall: seqPing.cpuUsPerCall, bareProxy: seqProxy.cpuUsPerCall },
      benchCpuUsPerCall: {
        ours: seqOurs.benchCpuUsPerCall,
        directGet: seqGet.benchCpuUsPerCall,
        clientInProcess: seqClient.benchCpuUsPerCall,
        bareToolCall: seqPing.benchCpuUsPerCall,
        bareProxy: seqProxy.benchCpuUsPerCall,
      },
      floor,
      ratio: { median: perCallRatio, p99: sOurs.p99 / floor.p99, vsBareProxy: sOurs.median / sProxy.median },
    },
    concurrent: { inFlight: COUNTS.inFlight, ours: c(conOurs.value), directGet: c(conGet.value), clientInProcess: c(conClient.value), bareToolCall: c(conPing.value), bareProxy: c(conProxy.value) },
    sinchRequests: { sequential: seqOurs.requests, concurrent: conOurs.requests },
    warmupCalls: COUNTS.warmupCalls,
  };
}

// ───────────────────────────────────────── 3. memory ─────────────────────────────────────────

async function memory() {
  const group = emulator.store.create({ name: 'Bench memory', members: ['14155550100'] });
  // --expose-gc and the probe change nothing until the probe is signalled, after each RSS reading.
  const server = await ready(() => new RpcChild(process.execPath, ['--expose-gc', '--import', HEAP_PROBE, CLI], serverEnv));
  const atStart = memoryOf(server.pid);
  const heapAtStart = await server.heapAfterGc();
  step(`memory: ${int(COUNTS.memoryCalls)} sequential get_group calls`);
  const samples: { calls: number; rssKiB: number }[] = [{ calls: 0, rssKiB: atStart.rssKiB }];
  const before = emulator.requests.length;
  const t0 = performance.now();
  for (let i = 1; i <= COUNTS.memoryCalls; i++) {
    await server.call('get_group', { group_id: group.id });
    if (i % 2_000 === 0) samples.push({ calls: i, rssKiB: memoryOf(server.pid).rssKiB });
  }
  const wallMs = performance.now() - t0;
  const requests = emulator.requests.length - before;
  check(requests === COUNTS.memoryCalls, `the emulator received ${requests} requests for ${COUNTS.memoryCalls} get_group calls`);
  const atEnd = memoryOf(server.pid);
  const heapAtEnd = await server.heapAfterGc();
  await server.close();

  print(heading(`5. Memory (server RSS from /proc/<pid>/status; ${int(COUNTS.memoryCalls)} sequential get_group calls in ${ms(wallMs / 1000, 1).replace(' ms', ' s')})`));
  print(
    table(
      ['after', ...samples.map((s) => (s.calls === 0 ? 'start' : `${int(s.calls)} calls`))],
      [['RSS', ...samples.map((s) => mib(s.rssKiB))]],
    ),
  );
  print(
    table(
      ['', 'RSS', 'peak RSS (VmHWM)'],
      [
        ['after start (initialize + tools/list answered)', mib(atStart.rssKiB), mib(atStart.peakKiB)],
        [`after ${int(COUNTS.memoryCalls)} get_group calls`, mib(atEnd.rssKiB), mib(atEnd.peakKiB)],
        ['growth', `${atEnd.rssKiB >= atStart.rssKiB ? '+' : ''}${mib(atEnd.rssKiB - atStart.rssKiB)}`, `+${mib(atEnd.peakKiB - atStart.peakKiB)}`],
      ],
    ),
  );
  const heapGrowth = heapAtEnd.heapUsed - heapAtStart.heapUsed;
  print(
    `  Live JS heap after a full GC (bench/heap-probe.mjs): ${mib(heapAtStart.heapUsed / 1024)} at start, ${mib(heapAtEnd.heapUsed / 1024)} after ${int(COUNTS.memoryCalls)} calls ` +
      `(${heapGrowth >= 0 ? '+' : ''}${int(heapGrowth / 1024)} KiB, ${(heapGrowth / COUNTS.memoryCalls).toFixed(1)} bytes per call): RSS growth without heap growth is V8 sizing its heap, not a leak.`,
  );
  print(`  Sinch requests: +${int(requests)} for ${int(COUNTS.memoryCalls)} calls.`);
  return { calls: COUNTS.memoryCalls, wallMs, atStart, atEnd, growthKiB: atEnd.rssKiB - atStart.rssKiB, samples, heapAfterGc: { atStart: heapAtStart, atEnd: heapAtEnd, growthBytes: heapGrowth }, sinchRequests: requests };
}

// ───────────────────────────────────────── 4. large groups ─────────────────────────────────────────

/** Distinct, possible US numbers: +1 415 200 0000 and up. */
const numbers = (from: number, count: number) => Array.from({ length: count }, (_, i) => `+1415${2_000_000 + from + i}`);

const size = (bytes: number) => (bytes < 10_240 ? `${int(bytes)} B` : `${int(bytes / 1024)} KiB`);

interface LargeStep {
  step: string;
  wallMs: number;
  sinchRequests: number;
  /** Sinch requests by HTTP method, e.g. "1 GET, 3 POST". */
  methods: string;
  requestBytes: number;
  replyBytes: number;
  peakKiB: number;
  rssAfterKiB: number;
  peakIsForStep: boolean;
  detail: string;
}

async function largeGroups(server: RpcChild) {
  const steps: LargeStep[] = [];
  const measure = async (name: string, work: () => Promise<{ requestBytes: number; replyBytes: number; detail: string }>) => {
    step(`large groups: ${name}`);
    const peakIsForStep = resetPeak(server.pid);
    const before = emulator.requests.length;
    const t0 = performance.now();
    const { requestBytes, replyBytes, detail } = await work();
    const wallMs = performance.now() - t0;
    const { rssKiB, peakKiB } = memoryOf(server.pid);
    const byMethod = new Map<string, number>();
    for (const { method } of emulator.requests.slice(before)) byMethod.set(method, (byMethod.get(method) ?? 0) + 1);
    const methods = [...byMethod].map(([method, count]) => `${count} ${method}`).join(', ');
    steps.push({ step: name, wallMs, sinchRequests: emulator.requests.length - before, methods, requestBytes, replyBytes, peakKiB, rssAfterKiB: rssKiB, peakIsForStep, detail });
  };
  const base = memoryOf(server.pid);
  const bytesOf = (args: Record<string, unknown>) => Buffer.byteLength(JSON.stringify(args));

  let groupId = '';
  await measure(`create_group with ${int(COUNTS.createMembers)} members`, async () => {
    const args = { name: 'Bench 25k', members: numbers(0, COUNTS.createMembers) };
    const reply = await server.call('create_group', args);
    groupId = (reply.result.structuredContent as { id: string }).id;
    const size = emulator.store.members(groupId).length;
    check(size === COUNTS.createMembers, `the created group has ${size} members`);
    return { requestBytes: bytesOf(args), replyBytes: reply.bytes, detail: `size ${int(size)}` };
  });
  await measure(`update_group +${int(COUNTS.updateAdd)} −${int(COUNTS.updateRemove)}`, async () => {
    const args = { group_id: groupId, add: numbers(COUNTS.createMembers, COUNTS.updateAdd), remove: numbers(0, COUNTS.updateRemove) };
    const reply = await server.call('update_group', args);
    const size = emulator.store.members(groupId).length;
    check(size === COUNTS.createMembers + COUNTS.updateAdd - COUNTS.updateRemove, `the updated group has ${size} members`);
    return { requestBytes: bytesOf(args), replyBytes: reply.bytes, detail: `size ${int(size)}` };
  });
  const expected = COUNTS.createMembers + COUNTS.updateAdd - COUNTS.updateRemove;
  const pageTimes: number[] = [];
  await measure(`walk list_group_members (limit 1,000)`, async () => {
    const seen = new Set<string>();
    let cursor: string | undefined;
    let pages = 0;
    let replyBytes = 0;
    let requestBytes = 0;
    do {
      const args = { group_id: groupId, ...(cursor === undefined ? {} : { cursor }) };
      requestBytes += bytesOf(args);
      const reply = await server.call('list_group_members', args);
      pageTimes.push(reply.at - reply.sentAt);
      const page = reply.result.structuredContent as { members: string[]; next_cursor?: string };
      for (const number of page.members) seen.add(number);
      replyBytes += reply.bytes;
      cursor = page.next_cursor;
      pages++;
    } while (cursor !== undefined);
    check(seen.size === expected, `walked ${seen.size} distinct members of ${expected}`);
    return { requestBytes, replyBytes, detail: `${pages} pages, ${int(seen.size)} numbers; page p50 ${ms(percentile(pageTimes, 50), 1)}` };
  });

  print(heading('3. Large groups (through MCP over stdio; peak RSS is the server\'s VmHWM, reset before each step)'));
  print(
    table(
      ['step', 'wall', 'Sinch requests', 'MCP request', 'MCP reply', 'peak RSS', 'RSS after', 'result'],
      steps.map((s) => [
        s.step,
        ms(s.wallMs, 0),
        `${int(s.sinchRequests)} (${s.methods})`,
        size(s.requestBytes),
        size(s.replyBytes),
        mib(s.peakKiB) + (s.peakIsForStep ? '' : ' †'),
        mib(s.rssAfterKiB),
        s.detail,
      ]),
    ),
  );
  print(`  Server RSS before the first step: ${mib(base.rssKiB)}.${steps.some((s) => !s.peakIsForStep) ? ' † peak since start: /proc/<pid>/clear_refs could not be written to reset it.' : ''}`);
  return { groupId, baseRssKiB: base.rssKiB, steps, walkPageMs: summarize(pageTimes) };
}

// ───────────────────────────────────────── 5. context cost ─────────────────────────────────────────

async function contextCost(server: RpcChild, largeGroupId: string) {
  step('context cost');
  const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value));
  const tokens = (count: number) => Math.round(count / 4);
  const init = await server.request('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '1.0.0' } });
  const instructions = String((init.result as { instructions?: string } | undefined)?.instructions ?? '');
  const list = await server.request('tools/list');
  const tools = (list.result as { tools: { name: string; description?: string; inputSchema?: unknown; outputSchema?: unknown }[] }).tools;
  const perTool = tools.map((tool) => {
    const { name, description, inputSchema, outputSchema, ...other } = tool;
    const total = bytes(tool);
    const input = inputSchema === undefined ? 0 : bytes(inputSchema);
    const output = outputSchema === undefined ? 0 : bytes(outputSchema);
    const text = Buffer.byteLength(description ?? '');
    return { name, bytes: total, descriptionBytes: text, inputSchemaBytes: input, outputSchemaBytes: output, otherBytes: total - input - output - text, otherKeys: Object.keys(other) };
  });
  const sum = (key: 'descriptionBytes' | 'inputSchemaBytes' | 'outputSchemaBytes' | 'otherBytes') => perTool.reduce((total, tool) => total + tool[key], 0);
  const toolsTotal = perTool.reduce((sum, tool) => sum + tool.bytes, 0);

  for (let i = 0; i < 10; i++) {
    const members = numbers(100_000 + i * 100, 5 + i * 5).map((number) => number.slice(1));
    emulator.store.create({ name: `Region ${i + 1} customers`.slice(0, 20), members });
  }
  const groups = await server.call('list_groups', { page_size: 10 });
  const page = await server.call('list_group_members', { group_id: largeGroupId });
  const parts = (reply: Reply & { result: Record<string, unknown> }) => {
    const text = ((reply.result.content as { text?: string }[] | undefined) ?? []).map((c) => c.text ?? '').join('');
    return { result: bytes(reply.result), text: Buffer.byteLength(text), structured: bytes(reply.result.structuredContent) };
  };
  const groupsBytes = parts(groups);
  const pageBytes = parts(page);
  check(((groups.result.structuredContent as { groups: unknown[] }).groups ?? []).length === 10, 'list_groups returned 10 groups');
  check(((page.result.structuredContent as { members: unknown[] }).members ?? []).length === 1_000, 'list_group_members returned 1,000 numbers');

  print(heading('4. Context cost (compact JSON bytes; tokens ≈ bytes / 4)'));
  print(
    table(
      ['tools/list: tool', 'bytes', '≈ tokens', 'description', 'inputSchema', 'outputSchema', 'rest *'],
      [
        ...perTool.map((tool) => [tool.name, int(tool.bytes), int(tokens(tool.bytes)), int(tool.descriptionBytes), int(tool.inputSchemaBytes), int(tool.outputSchemaBytes), int(tool.otherBytes)]),
        [`total (${perTool.length} tools)`, int(toolsTotal), int(tokens(toolsTotal)), int(sum('descriptionBytes')), int(sum('inputSchemaBytes')), int(sum('outputSchemaBytes')), int(sum('otherBytes'))],
        ['whole tools/list result', int(bytes(list.result)), int(tokens(bytes(list.result))), '', '', '', ''],
        ['initialize instructions', int(Buffer.byteLength(instructions)), int(tokens(Buffer.byteLength(instructions))), '', '', '', ''],
      ],
    ),
  );
  const listed = JSON.stringify(tools);
  const count = (pattern: RegExp) => (listed.match(pattern) ?? []).length;
  const waste = [
    [count(/"\$schema":/g), '"$schema"', 52],
    [count(/"minimum":-9007199254740991,"maximum":9007199254740991/g), 'safe-integer bounds', 50],
    [count(/"additionalProperties":false/g), 'additionalProperties:false', 28],
  ].filter(([n]) => (n as number) > 0) as [number, string, number][];
  print(
    `  * rest: name, title, annotations and the like (keys beside name, description and schemas: ${[...new Set(perTool.flatMap((tool) => tool.otherKeys))].join(', ')}).` +
      (waste.length ? ` Boilerplate in the schemas: ${waste.map(([n, what, each]) => `${n} × ${what} (≈ ${int(n * each)} B)`).join(', ')}.` : ''),
  );
  const modelBytesPerTool = tools.reduce((sum, { name, description, inputSchema }) => sum + bytes({ name, description, inputSchema }), 0) / tools.length;
  const toolsListBytesPerTool = bytes(tools) / tools.length;
  print('');
  print(
    table(
      ['per tool', 'bytes', 'limit', 'of limit'],
      [
        ['what a model sees (name, description, inputSchema), average', int(modelBytesPerTool), int(TARGETS.modelBytesPerTool), ratio(modelBytesPerTool / TARGETS.modelBytesPerTool)],
        ['tools/list (the tools array) / tools', int(toolsListBytesPerTool), int(TARGETS.toolsListBytesPerTool), ratio(toolsListBytesPerTool / TARGETS.toolsListBytesPerTool)],
      ],
    ),
  );
  print('');
  print(
    table(
      ['tool result', 'whole result', 'text content', 'structuredContent', '≈ tokens (one copy)'],
      [
        ['list_groups, 10 groups', int(groupsBytes.result), int(groupsBytes.text), int(groupsBytes.structured), int(tokens(groupsBytes.text))],
        ['list_group_members, 1,000 numbers', int(pageBytes.result), int(pageBytes.text), int(pageBytes.structured), int(tokens(pageBytes.text))],
      ],
    ),
  );
  print('  The whole result carries the data twice (text content and structuredContent); what reaches the model depends on the client.');
  return {
    tools: perTool.map(({ otherKeys: _keys, ...tool }) => tool),
    toolsTotalBytes: toolsTotal,
    toolsListResultBytes: bytes(list.result),
    modelBytesPerTool,
    toolsListBytesPerTool,
    instructionsBytes: Buffer.byteLength(instructions),
    listGroups10: groupsBytes,
    listGroupMembers1000: pageBytes,
  };
}

// ───────────────────────────────────────── main ─────────────────────────────────────────

function git(...args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  const bundles = await bundleEntries({ bare: { file: BARE } });
  bareBundled = bundles.files.bare!;
  emulator = await startEmulator();
  serverEnv = envWith({ SINCH_SMS_BASE_URL: emulator.url, SINCH_SERVICE_PLAN_ID: emulator.servicePlanId, SINCH_API_TOKEN: emulator.apiToken });
  const commit = git('rev-parse', '--short', 'HEAD');
  const dirty = git('status', '--porcelain', '--', 'src') !== '';
  const loadAtStart = loadavg();
  print(`sinch-groups-mcp benchmark — ${new Date().toISOString()}`);
  print(`node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}; commit ${commit}${dirty ? ' (src/ modified since)' : ''}`);
  print(`server: node ${CLI.replace(ROOT, '')}, against the emulator at ${emulator.url} started in this process`);
  print(`load average at start: ${loadAtStart.map((x) => x.toFixed(2)).join(' ')}`);
  if (loadAtStart[0]! > cpus().length * 0.5) {
    print(`WARNING: other work is using this machine (load ${loadAtStart[0]!.toFixed(1)} on ${cpus().length} cores): latencies and ratios will be noisy; CPU figures (¶) less so.`);
  }
  try {
    const startupResult = await startup();
    const perCallResult = await perCall();
    const large = await ready(spawnOurs);
    let largeResult: Awaited<ReturnType<typeof largeGroups>>;
    let contextResult: Awaited<ReturnType<typeof contextCost>>;
    try {
      largeResult = await largeGroups(large);
      contextResult = await contextCost(large, largeResult.groupId);
    } finally {
      await large.close();
    }
    const memoryResult = await memory();
    step('profiles of start-up and of get_group');
    let profile: (Awaited<ReturnType<typeof breakdown>> & { imports: Awaited<ReturnType<typeof importCosts>> }) | undefined;
    try {
      const group = emulator.store.create({ name: 'Bench profile', members: ['14155550100'] });
      profile = { ...(await breakdown({ cli: CLI, env: serverEnv, groupId: group.id, print })), imports: await importCosts(print) };
    } catch (error) {
      print(`\n(profiles skipped: ${error instanceof Error ? error.message : String(error)})`);
    }

    const targets = {
      startupRatio: { value: startupResult.ratio.toolsList, target: TARGETS.startupRatio, met: startupResult.ratio.toolsList <= TARGETS.startupRatio },
      perCallRatio: { value: perCallResult.sequential.ratio.median, target: TARGETS.perCallRatio, met: perCallResult.sequential.ratio.median <= TARGETS.perCallRatio },
      toolsListBytes: { value: contextResult.toolsTotalBytes, target: TARGETS.toolsListBytes, met: contextResult.toolsTotalBytes < TARGETS.toolsListBytes },
    };
    const verdict = (met: boolean) => (met ? 'met' : 'MISSED');
    const seqResult = perCallResult.sequential;
    print(heading('Targets'));
    print(
      table(
        ['figure', 'value', 'target', ''],
        [
          ['start-up ours/bare (spawn → tools/list answered, medians)', ratio(targets.startupRatio.value), `≤ ${ratio(TARGETS.startupRatio)}`, verdict(targets.startupRatio.met)],
          ['per call ours/floor (get_group medians)', ratio(targets.perCallRatio.value), `≤ ${ratio(TARGETS.perCallRatio)}`, verdict(targets.perCallRatio.met)],
          ['tools/list total bytes (7 tools, compact JSON)', int(targets.toolsListBytes.value), `< ${int(TARGETS.toolsListBytes)}`, verdict(targets.toolsListBytes.met)],
        ],
      ),
    );
    print(
      `  For context: start-up ours / bare bundled ${ratio(startupResult.ratio.toolsListVsBareBundled)} (CPU ${ratio(startupResult.ratio.cpuVsBareBundled)}); ` +
        `per call ours / bare proxy ${ratio(seqResult.ratio.vsBareProxy)} (server CPU ${ratio(seqResult.serverCpuUsPerCall.ours / seqResult.serverCpuUsPerCall.bareProxy)}), ` +
        `and a tool with no work of its own (bare proxy) is already at ${ratio(seqResult.bareProxy.median / seqResult.floor.median)} of the per-call floor.`,
    );
    const seconds = (performance.now() - began) / 1000;
    print(`\nwhole run: ${seconds.toFixed(1)} s (counts as specified, none reduced); load average at end: ${loadavg().map((x) => x.toFixed(2)).join(' ')}; results in bench/results.json`);

    writeFileSync(
      RESULTS,
      `${JSON.stringify(
        rounded({
          meta: { date: new Date().toISOString(), loadAverage: { atStart: loadAtStart, atEnd: loadavg() }, node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model, commit, srcModified: dirty, cli: CLI.replace(ROOT, ''), counts: COUNTS, runSeconds: seconds, unitsNote: 'times in ms, memory in KiB, sizes in bytes' },
          targets,
          startup: startupResult,
          perCall: perCallResult,
          largeGroups: largeResult,
          context: contextResult,
          memory: memoryResult,
          whereTimeGoes: profile,
        }),
        null,
        2,
      )}\n`,
    );
  } finally {
    bundles.remove();
    await emulator.close();
    await getGlobalDispatcher().close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  // Servers still open would keep this process alive: end them, and exit.
  killAll();
  process.exit(1);
});
