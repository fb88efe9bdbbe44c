/**
 * Section 6 of the benchmark: where start-up and per-call time go, from CPU profiles of the built
 * server (node --cpu-prof, sampled every 100 µs) mapped back to packages through the bundle's source maps.
 */
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { attribute, bundleComposition, emptyAttribution, profileDir, scriptsIn, type Attribution } from './profile.js';
import { bundleEntries } from './bundle.js';
import { heading, int, percentile, rounded, table } from './report.js';
import { RpcChild } from './rpc.js';

const nowUs = () => Number(process.hrtime.bigint() / 1000n);
const PROFILE_FLAGS = (dir: string) => ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval=100'];

interface Options {
  cli: string;
  env: NodeJS.ProcessEnv;
  /** A group that get_group can read. */
  groupId: string;
  print: (line?: string) => void;
  runs?: number;
  calls?: number;
}

/** Rows of "what, time, share" from an attribution, largest first, the tail folded into one row. */
function rows(attribution: Attribution, { scale, unit, limit }: { scale: number; unit: string; limit: number }, byFile = false) {
  const entries = [...(byFile ? attribution.byFile : attribution.byPackage)].sort((a, b) => b[1] - a[1]);
  const busy = [...attribution.byPackage].filter(([name]) => !name.startsWith('(idle)')).reduce((sum, [, value]) => sum + value, 0);
  // Rows that would print as zero are left to "(other)".
  const shown = entries.filter(([name, value]) => !name.startsWith('(idle)') && value * scale >= (unit === 'µs' ? 0.5 : 0.05)).slice(0, limit);
  const rest = busy - shown.reduce((sum, [, value]) => sum + value, 0);
  const format = (value: number) => `${(value * scale).toFixed(unit === 'µs' ? 0 : 1)} ${unit}`;
  const result = shown.map(([name, value]) => [name, format(value), `${((value / busy) * 100).toFixed(1)} %`]);
  if (rest > 0.0005) result.push([byFile ? '(other files)' : '(other)', format(rest), `${((rest / busy) * 100).toFixed(1)} %`]);
  result.push(['total CPU sampled (idle excluded)', format(busy), '100 %']);
  return { result, busy };
}

export async function breakdown({ cli, env, groupId, print, runs = 5, calls = 1_000 }: Options) {
  // ── start-up ──
  const startup = emptyAttribution();
  const scripts = new Set<string>();
  const before: number[] = [];
  const during: number[] = [];
  for (let run = 0; run < runs; run++) {
    const profiles = profileDir();
    try {
      const spawnedUs = nowUs();
      const server = new RpcChild(process.execPath, [...PROFILE_FLAGS(profiles.dir), cli], env);
      await server.initialize();
      const list = await server.request('tools/list');
      if (list.error) throw new Error(`tools/list failed: ${list.error.message}`);
      const readyUs = nowUs();
      await server.close();
      const [profile] = profiles.read();
      if (!profile) throw new Error('node --cpu-prof wrote no profile');
      before.push((profile.startTime - spawnedUs) / 1000);
      during.push((readyUs - profile.startTime) / 1000);
      attribute(profile, startup, { fromUs: 0, toUs: readyUs });
      for (const url of scriptsIn(profile)) scripts.add(url);
    } finally {
      profiles.remove();
    }
  }
  const perRun = 1 / runs;

  // ── per call ──
  const perCall = emptyAttribution();
  const profiles = profileDir();
  let wallPerCallMs: number;
  try {
    const server = new RpcChild(process.execPath, [...PROFILE_FLAGS(profiles.dir), cli], env);
    await server.initialize();
    await server.request('tools/list');
    for (let i = 0; i < 100; i++) await server.call('get_group', { group_id: groupId });
    const fromUs = nowUs();
    for (let i = 0; i < calls; i++) await server.call('get_group', { group_id: groupId });
    const toUs = nowUs();
    wallPerCallMs = (toUs - fromUs) / 1000 / calls;
    await server.close();
    const [profile] = profiles.read();
    if (!profile) throw new Error('node --cpu-prof wrote no profile');
    attribute(profile, perCall, { fromUs, toUs });
  } finally {
    profiles.remove();
  }

  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  print(heading(`6. Where the time goes (node --cpu-prof, 100 µs sampling; self time mapped to packages through the source maps)`));
  print(
    `Start-up, mean of ${runs} profiled runs: spawn → profiler running ${median(before).toFixed(1)} ms (node bootstrap), ` +
      `profiler running → tools/list answered ${median(during).toFixed(1)} ms (medians; profiling slows it).`,
  );
  const s = rows(startup, { scale: perRun, unit: 'ms', limit: 12 });
  print(table(['start-up CPU by package', 'per start-up', 'share'], s.result));
  print('');
  print(table(['start-up CPU by source file (top 10)', 'per start-up', 'share'], rows(startup, { scale: perRun, unit: 'ms', limit: 10 }, true).result));

  const root = dirname(dirname(cli)); // dist/ for dist/cli/index.js
  const composition = bundleComposition([...scripts].filter((url) => fileURLToPath(url).startsWith(`${root}/`)));
  const loaded = new Map<string, number>();
  let loadedBytes = 0;
  for (const file of composition) {
    loadedBytes += file.bytes;
    for (const [pkg, bytes] of file.byPackage) loaded.set(pkg, (loaded.get(pkg) ?? 0) + bytes);
  }
  print('');
  const kib = (bytes: number) => `${int(bytes / 1024)} KiB`;
  const sortedLoaded = [...loaded].sort((a, b) => b[1] - a[1]);
  print(
    table(
      [`code loaded at start-up (${composition.length} built files that ran)`, 'bytes', 'share'],
      [
        ...sortedLoaded.slice(0, 10).map(([pkg, bytes]) => [pkg, kib(bytes), `${((bytes / loadedBytes) * 100).toFixed(1)} %`]),
        ['total', kib(loadedBytes), '100 %'],
      ],
    ),
  );
  print(`  files: ${composition.map((file) => `${file.file.slice(root.length + 1)} (${kib(file.bytes)})`).join(', ')}`);

  print('');
  const c = rows(perCall, { scale: 1000 / calls, unit: 'µs', limit: 12 });
  print(`Per call: ${int(calls)} sequential get_group calls after 100 warm-up, ${(wallPerCallMs * 1000).toFixed(0)} µs wall per call under the profiler.`);
  print(table(['server CPU per get_group by package', 'per call', 'share'], c.result));
  print('');
  print(table(['server CPU per get_group by source file (top 10)', 'per call', 'share'], rows(perCall, { scale: 1000 / calls, unit: 'µs', limit: 10 }, true).result));

  const toObject = (map: Map<string, number>, scale: number) => Object.fromEntries([...map].sort((a, b) => b[1] - a[1]).map(([key, value]) => [key, value * scale]));
  return rounded({
    startup: {
      runs,
      spawnToProfilerMs: median(before),
      profilerToToolsListMs: median(during),
      cpuMsPerStartup: s.busy * perRun,
      byPackageMs: toObject(startup.byPackage, perRun),
      byFileMs: Object.fromEntries(Object.entries(toObject(startup.byFile, perRun)).slice(0, 25)),
      loadedBytes,
      loadedBytesByPackage: Object.fromEntries(sortedLoaded),
    },
    perCall: {
      calls,
      wallUsPerCall: wallPerCallMs * 1000,
      cpuUsPerCall: (c.busy * 1000) / calls,
      byPackageUs: toObject(perCall.byPackage, 1000 / calls),
      byFileUs: Object.fromEntries(Object.entries(toObject(perCall.byFile, 1000 / calls)).slice(0, 25)),
    },
  });
}

/** Each dependency bundled alone (as the CLI bundles it), timed from spawn to exit, against an empty module. */
const IMPORTS: Record<string, string> = {
  'nothing (an empty module)': '',
  'undici, whole package (as src/sinch/http.ts imports it)': "import * as undici from 'undici'; globalThis.keep = undici;",
  'undici: Agent, retry interceptor, request only (deep imports)':
    "import Agent from 'undici/lib/dispatcher/agent.js'; import retry from 'undici/lib/interceptor/retry.js'; import api from 'undici/lib/api/index.js'; globalThis.keep = [Agent, retry, api];",
  'zod (as src/ imports it)': "import * as z from 'zod'; globalThis.keep = z;",
  'libphonenumber-js/min': "import { parsePhoneNumberFromString, validatePhoneNumberLength } from 'libphonenumber-js/min'; globalThis.keep = [parsePhoneNumberFromString, validatePhoneNumberLength];",
  'MCP SDK: McpServer + StdioServerTransport (zod, ajv inside)':
    "import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'; import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js'; globalThis.keep = [McpServer, StdioServerTransport];",
  '  of which ajv + ajv-formats (the SDK validates elicitation replies with it)':
    "import Ajv from 'ajv'; import addFormats from 'ajv-formats'; globalThis.keep = [Ajv, addFormats];",
  'all four together (our dependencies)':
    "import * as undici from 'undici'; import * as z from 'zod'; import { parsePhoneNumberFromString } from 'libphonenumber-js/min'; import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'; import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js'; globalThis.keep = [undici, z, parsePhoneNumberFromString, McpServer, StdioServerTransport];",
};

// Appended to each entry: the process reports its own CPU time (all threads) as it exits.
const REPORT_CPU = "\nprocess.on('exit', () => { const { user, system } = process.cpuUsage(); process.stdout.write(String(user + system)); });";

export async function importCosts(print: (line?: string) => void, runs = 15) {
  const bundles = await bundleEntries(Object.fromEntries(Object.entries(IMPORTS).map(([name, source]) => [name, source + REPORT_CPU])));
  const names = Object.keys(IMPORTS);
  const times = new Map<string, number[]>(names.map((name) => [name, []]));
  const cpu = new Map<string, number[]>(names.map((name) => [name, []]));
  const once = (file: string) =>
    new Promise<{ wallMs: number; cpuMs: number }>((resolve, reject) => {
      const started = performance.now();
      const child = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.once('error', reject);
      child.once('close', (code) =>
        code === 0 ? resolve({ wallMs: performance.now() - started, cpuMs: Number(out) / 1000 }) : reject(new Error(`${file} exited with ${code}`)),
      );
    });
  try {
    for (let round = 0; round <= runs; round++) {
      for (let k = 0; k < names.length; k++) {
        const name = names[(round + k) % names.length]!;
        const { wallMs, cpuMs } = await once(bundles.files[name]!);
        if (round > 0) {
          times.get(name)!.push(wallMs);
          cpu.get(name)!.push(cpuMs);
        }
      }
    }
    const base = percentile(times.get(names[0]!)!, 50);
    const baseCpu = percentile(cpu.get(names[0]!)!, 50);
    const rowsOut = names.map((name) => {
      const median = percentile(times.get(name)!, 50);
      const cpuMedian = percentile(cpu.get(name)!, 50);
      return { name, bytes: statSync(bundles.files[name]!).size, medianMs: median, costMs: median - base, cpuMs: cpuMedian, cpuCostMs: cpuMedian - baseCpu };
    });
    print('');
    print(
      table(
        [`import cost, each bundled alone (median of ${runs} runs)`, 'bundle', 'spawn → exit', 'over empty', 'CPU used', 'CPU over empty'],
        rowsOut.map((row) => {
          const empty = row.name.startsWith('nothing');
          return [row.name, `${int(row.bytes / 1024)} KiB`, `${row.medianMs.toFixed(1)} ms`, empty ? '' : `${row.costMs.toFixed(1)} ms`, `${row.cpuMs.toFixed(1)} ms`, empty ? '' : `${row.cpuCostMs.toFixed(1)} ms`];
        }),
      ),
    );
    print('  CPU used: user + system of the whole process (all threads), reported by itself at exit.');
    return rounded({ runs, entries: rowsOut });
  } finally {
    bundles.remove();
  }
}
