#!/usr/bin/env node
// Scale demo: one Sinch emulator, MCP replicas in HTTP mode behind nginx, and autocannon driving concurrent
// `tools/call get_group` requests through nginx; first with 1 replica, then with N, to compare like with like.
//
//   npm run scale-demo                                   # 1 replica vs 2, 32 connections, 10 s each
//   npm run scale-demo -- --replicas 3 --connections 64 --duration 20 --warmup 5
//
// It builds dist/ when missing, installs nginx from Debian's packages when missing (root only), keeps every
// process it starts on 127.0.0.1, and stops them all on exit, on error and on Ctrl-C. nginx runs from a
// temporary prefix with its own config, pid and logs: no system configuration is read or changed.
// Figures go to stdout and to bench/scale-results.json.
//
// The emulator answers at once (its delays are one-shot faults for tests, not a setting), so the load is
// bound by CPU: what it shows is what a call costs the server, and how that spreads over the machine's
// cores. nginx's access log says which replica answered each call; /proc says which process used the CPU.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const ENTRY = join(ROOT, 'dist', 'cli', 'index.js');
const RESULTS = join(ROOT, 'bench', 'scale-results.json');
/** The public name nginx forwards in Host, as a real deployment would; the replicas list it in MCP_ALLOWED_HOSTS. */
const PUBLIC_HOST = 'mcp.scale-demo.test';
const LOOPBACK = '127.0.0.1';
const startedAt = Date.now();

const USAGE = `Usage: npm run scale-demo -- [--replicas N] [--connections C] [--duration S] [--warmup S] [--keep-logs]
  --replicas N     replicas in the second setup (default 2, at least 2); the first setup has 1
  --connections C  concurrent connections autocannon keeps open through nginx (default 32)
  --duration S     seconds measured per setup (default 10)
  --warmup S       seconds of discarded load before each measurement (default 3)
  --keep-logs      keep the temporary folder (nginx and replica logs) instead of deleting it`;

// ---------------------------------------------------------------------------------------------------------
// Options

function readOptions() {
  const { values } = parseArgs({
    options: {
      replicas: { type: 'string', default: '2' },
      connections: { type: 'string', default: '32' },
      duration: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '3' },
      'keep-logs': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const whole = (name, min, max) => {
    const number = Number(values[name]);
    if (!Number.isInteger(number) || number < min || number > max) fail(`--${name} must be a whole number from ${min} to ${max} (got "${values[name]}")`);
    return number;
  };
  return {
    replicas: whole('replicas', 2, 16),
    connections: whole('connections', 1, 1000),
    duration: whole('duration', 1, 600),
    warmup: whole('warmup', 0, 120),
    keepLogs: values['keep-logs'],
  };
}

class DemoError extends Error {}
function fail(message) {
  throw new DemoError(message);
}

const say = (message) => console.log(`[scale-demo] ${message}`);

// ---------------------------------------------------------------------------------------------------------
// Processes we start, and their cleanup

/** Every child we started and have not seen exit: { name, child }. */
const children = new Set();
let tempDir;
let keepTemp = false;

/** Starts a child in its own process group (so a terminal's Ctrl-C reaches only us, and we stop it in order). */
function launch(name, command, args, { env = process.env, logFile } = {}) {
  const child = spawn(command, args, { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const entry = { name, child, output: [], exited: false };
  const log = logFile ? createWriteStream(logFile) : undefined;
  let partial = '';
  const collect = (chunk) => {
    log?.write(chunk);
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop();
    for (const line of lines) {
      entry.output.push({ at: Date.now(), line });
      if (entry.output.length > 5000) entry.output.shift();
    }
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  entry.done = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      entry.exited = true;
      entry.exitCode = code;
      entry.exitSignal = signal;
      children.delete(entry);
      log?.end();
      resolve();
    });
    child.once('error', (error) => {
      entry.exited = true;
      entry.spawnError = error;
      children.delete(entry);
      resolve();
    });
  });
  children.add(entry);
  return entry;
}

/** Asks a child to stop, waits up to `graceMs`, then kills its whole process group. */
async function stop(entry, signal = 'SIGTERM', graceMs = 5000) {
  // A group leader that died on its own may have left members (nginx workers): end them too.
  if (entry.exited) return killGroup(entry, 'SIGKILL');
  try {
    process.kill(entry.child.pid, signal);
  } catch {}
  const timer = new Promise((resolve) => setTimeout(resolve, graceMs).unref());
  await Promise.race([entry.done, timer]);
  if (!entry.exited) {
    say(`${entry.name} did not stop within ${graceMs} ms: killing it`);
    killGroup(entry, 'SIGKILL');
    await Promise.race([entry.done, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
  }
  // nginx workers and anything else left in the group.
  killGroup(entry, 'SIGKILL');
}

function killGroup(entry, signal) {
  try {
    process.kill(-entry.child.pid, signal);
  } catch {}
}

let cleaning;
/** Stops nginx first (no new traffic), then the replicas, then the emulator. */
function cleanup() {
  cleaning ??= (async () => {
    const order = (name) => (name.startsWith('nginx') ? 0 : name.startsWith('replica') ? 1 : 2);
    const all = [...children].sort((a, b) => order(a.name) - order(b.name));
    for (const rank of [0, 1, 2]) await Promise.all(all.filter((entry) => order(entry.name) === rank).map((entry) => stop(entry)));
    if (tempDir && !keepTemp) rmSync(tempDir, { recursive: true, force: true });
    else if (tempDir) say(`logs kept in ${tempDir}`);
  })();
  return cleaning;
}

// Last resort when we exit without cleaning up (process.exit elsewhere): nothing we started outlives us.
process.on('exit', () => {
  for (const entry of children) killGroup(entry, 'SIGKILL');
});
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    say(`${signal}: stopping everything started`);
    void cleanup().finally(() => process.exit(130));
  });
}

// ---------------------------------------------------------------------------------------------------------
// Prerequisites: dist/, nginx, autocannon

function run(command, args, timeoutMs) {
  say(`running: ${[command, ...args].join(' ')}`);
  const result = spawnSync(command, args, {
    cwd: ROOT,
    stdio: 'inherit',
    timeout: timeoutMs,
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (result.error) return { ok: false, why: result.error.message };
  if (result.signal) return { ok: false, why: `stopped by ${result.signal} (time limit ${timeoutMs / 1000} s)` };
  return { ok: result.status === 0, why: `exit code ${result.status}` };
}

function ensureBuilt() {
  if (existsSync(ENTRY)) return;
  say(`${ENTRY} is missing: building`);
  const built = run('npm', ['run', 'build'], 300_000);
  if (!built.ok || !existsSync(ENTRY)) fail(`npm run build failed (${built.why}); fix the build, then run the demo again`);
}

function findNginx() {
  const found = spawnSync('sh', ['-c', 'command -v nginx'], { encoding: 'utf8' });
  const path = found.status === 0 ? found.stdout.trim() : '';
  if (path) return path;
  for (const candidate of ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/local/nginx/sbin/nginx']) if (existsSync(candidate)) return candidate;
  return undefined;
}

function ensureNginx() {
  let nginx = findNginx();
  if (nginx) return nginx;
  if (process.getuid?.() !== 0) fail('nginx is not installed and this is not root: install it (sudo apt-get install -y nginx), then run the demo again');
  if (!existsSync('/usr/bin/apt-get')) fail('nginx is not installed and there is no apt-get here: install nginx, then run the demo again');
  say("nginx is not installed: installing it from Debian's packages (apt-get)");
  const updated = run('apt-get', ['update'], 300_000);
  if (!updated.ok) fail(`apt-get update failed (${updated.why})`);
  // `nginx` is the server itself on current Debian; `nginx-light` is the older name for a small build.
  for (const pkg of ['nginx', 'nginx-light']) {
    const installed = run('apt-get', ['install', '-y', '--no-install-recommends', pkg], 600_000);
    nginx = findNginx();
    if (installed.ok && nginx) break;
    say(`installing ${pkg} did not give an nginx binary (${installed.why})`);
  }
  if (!nginx) fail('could not install nginx');
  if (existsSync('/run/nginx.pid')) {
    say('note: the package started its own system nginx service (/run/nginx.pid); this demo does not use or stop it');
  }
  return nginx;
}

async function loadAutocannon() {
  try {
    return (await import('autocannon')).default;
  } catch {
    fail('autocannon is not installed: run npm install (it is a devDependency), then run the demo again');
  }
}

// ---------------------------------------------------------------------------------------------------------
// Emulator, replicas, nginx

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Waits until a line of the child's output matches, or it exits, or `ms` pass. */
async function waitForLine(entry, pattern, ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    for (const { line } of entry.output) {
      const match = pattern.exec(line);
      if (match) return match;
    }
    if (entry.exited) break;
    await sleep(50);
  }
  const tail = entry.output.slice(-15).map(({ line }) => `    ${line}`).join('\n');
  fail(`${entry.name} ${entry.exited ? `exited (code ${entry.exitCode}, signal ${entry.exitSignal})` : `did not start within ${ms} ms`}${entry.spawnError ? `: ${entry.spawnError.message}` : ''}\n${tail}`);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitForHealth(url, headers, ms, entry) {
  const deadline = Date.now() + ms;
  let last = '';
  while (Date.now() < deadline) {
    if (entry?.exited) break;
    try {
      const response = await fetch(url, { headers, signal: AbortSignal.timeout(2000) });
      last = `HTTP ${response.status}`;
      await response.arrayBuffer();
      if (response.ok) return;
    } catch (error) {
      last = error.cause?.code ?? error.message;
    }
    await sleep(100);
  }
  fail(`${url} did not become healthy within ${ms} ms (last: ${last})`);
}

/** A child's environment without the caller's Sinch or MCP settings, so only ours apply. */
function cleanEnv(extra) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(SINCH_|MCP_)/.test(name)));
  return { ...env, ...extra };
}

async function startEmulator() {
  const servicePlanId = randomBytes(16).toString('hex');
  const apiToken = randomBytes(16).toString('hex');
  const entry = launch(
    'emulator',
    process.execPath,
    [ENTRY, 'emulator', '--host', LOOPBACK, '--port', '0', '--service-plan-id', servicePlanId, '--api-token', apiToken, '--seed'],
    { env: cleanEnv({}), logFile: join(tempDir, 'emulator.log') },
  );
  const [, url] = await waitForLine(entry, /listening on (http:\/\/127\.0\.0\.1:\d+)/, 20_000);
  return { entry, url, servicePlanId, apiToken };
}

async function startReplicas(count, emulator, authToken, label) {
  const replicas = [];
  for (let i = 1; i <= count; i++) {
    const name = `replica ${i}/${count} (${label})`;
    const entry = launch(name, process.execPath, [ENTRY, '--http', '--host', LOOPBACK, '--port', '0'], {
      env: cleanEnv({
        SINCH_SMS_BASE_URL: emulator.url,
        SINCH_SERVICE_PLAN_ID: emulator.servicePlanId,
        SINCH_API_TOKEN: emulator.apiToken,
        MCP_AUTH_TOKEN: authToken,
        MCP_ALLOWED_HOSTS: PUBLIC_HOST,
      }),
      logFile: join(tempDir, `replica-${label}-${i}.log`),
    });
    replicas.push({ entry, name });
  }
  // Started together, awaited together: they boot in parallel.
  for (const replica of replicas) {
    const [, url] = await waitForLine(replica.entry, /serving MCP at (http:\/\/127\.0\.0\.1:(\d+)\/mcp)/, 30_000);
    replica.url = url;
    replica.port = Number(new URL(url).port);
    await waitForHealth(`http://${LOOPBACK}:${replica.port}/healthz`, {}, 10_000, replica.entry);
    replica.readyAt = Date.now();
  }
  return replicas;
}

function nginxConfig(dir, port, replicas, connections) {
  return `# Written by bench/scale-demo.mjs for one run; nothing here is read from or written to /etc.
daemon off;
master_process on;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events {
  worker_connections ${Math.max(1024, connections * 4)};
}
http {
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  # Which replica answered, and how long it took: read back after the run (buffered, so cheap).
  log_format demo '$msec $status $upstream_addr $upstream_status $request_time $upstream_response_time';
  access_log ${dir}/access.log demo buffer=256k flush=1s;
  keepalive_timeout 60s;
  keepalive_requests 1000000;

  upstream mcp_replicas {
${replicas.map(({ port: replicaPort }) => `    server ${LOOPBACK}:${replicaPort} max_fails=0;`).join('\n')}
    keepalive ${Math.max(16, connections * 2)};
    keepalive_requests 1000000;
    # Node closes idle connections after 5 s; closing ours first avoids reusing one it is closing.
    keepalive_timeout 4s;
  }

  server {
    listen ${LOOPBACK}:${port};
    location / {
      proxy_pass http://mcp_replicas;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host ${PUBLIC_HOST};
      proxy_set_header X-Forwarded-For $remote_addr;
      # Streamable HTTP answers tools/call as server-sent events: pass them on as they come.
      proxy_buffering off;
      proxy_read_timeout 30s;
    }
  }
}
`;
}

async function startNginx(nginxBin, replicas, connections, label) {
  const dir = join(tempDir, `nginx-${label}`);
  mkdirSync(dir, { recursive: true });
  // As root nginx's workers run as an unprivileged user: let them into their prefix.
  chmodSync(tempDir, 0o755);
  chmodSync(dir, 0o755);
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, nginxConfig(dir, port, replicas, connections));
  const check = spawnSync(nginxBin, ['-t', '-q', '-p', `${dir}/`, '-c', conf, '-e', join(dir, 'error.log')], { encoding: 'utf8' });
  if (check.status !== 0) fail(`nginx rejected its config:\n${check.stderr}`);
  const entry = launch(`nginx (${label})`, nginxBin, ['-p', `${dir}/`, '-c', conf, '-e', join(dir, 'error.log')]);
  const url = `http://${LOOPBACK}:${port}`;
  try {
    await waitForHealth(`${url}/healthz`, {}, 10_000, entry);
  } catch (error) {
    const log = existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8') : '';
    throw new DemoError(`${error.message}\n${log}${entry.output.map(({ line }) => line).join('\n')}`);
  }
  return { entry, url, dir, port };
}

// ---------------------------------------------------------------------------------------------------------
// MCP over HTTP

function rpcHeaders(authToken) {
  return {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    authorization: `Bearer ${authToken}`,
  };
}

const toolCall = (name, args, id = 1) => JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });

/** The JSON-RPC message of an answer sent as JSON or as server-sent events. */
function rpcMessage(text) {
  const data = text
    .split('\n')
    .filter((line) => line.startsWith('data:'))
    .map((line) => line.slice(5).trim());
  return JSON.parse(data.length > 0 ? data.join('\n') : text);
}

/** Calls list_groups through nginx (stateless: no initialize first) and picks a seeded group. */
async function pickGroup(nginxUrl, authToken) {
  const response = await fetch(`${nginxUrl}/mcp`, { method: 'POST', headers: rpcHeaders(authToken), body: toolCall('list_groups', {}), signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  if (response.status !== 200) fail(`list_groups through nginx answered HTTP ${response.status}: ${text.slice(0, 500)}`);
  const message = rpcMessage(text);
  const groups = message.result?.structuredContent?.groups;
  if (message.error || message.result?.isError || !Array.isArray(groups) || groups.length === 0) {
    fail(`list_groups found no seeded group: ${text.slice(0, 500)}`);
  }
  return groups[0];
}

// ---------------------------------------------------------------------------------------------------------
// Measuring

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** CPU seconds a process (and, with `withChildren`, its direct children: nginx workers) has used. */
function cpuSeconds(pid, withChildren = false) {
  const one = (id) => {
    try {
      const stat = readFileSync(`/proc/${id}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
    } catch {
      return 0;
    }
  };
  let total = one(pid);
  if (withChildren) {
    try {
      for (const child of readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)) total += one(child);
    } catch {}
  }
  return total;
}

function rssMiB(pid) {
  try {
    const kib = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
    return Math.round((kib / 1024) * 10) / 10;
  } catch {
    return undefined;
  }
}

/** Whole-machine busy and total CPU seconds, from /proc/stat. */
function machineCpu() {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = fields;
  const busy = user + nice + system + irq + softirq + steal;
  return { busy: busy / CLK_TCK, total: (busy + idle + iowait) / CLK_TCK };
}

function childPids(pid) {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** CPU seconds of every process on the machine, to name what else ran during a measurement. */
function everyProcess() {
  const all = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      all.set(Number(name), { command: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), cpu: (Number(fields[11]) + Number(fields[12])) / CLK_TCK });
    } catch {}
  }
  return all;
}

function snapshot(setup) {
  const nginxPid = setup.nginx.entry.child.pid;
  return {
    at: Date.now(),
    machine: machineCpu(),
    self: process.cpuUsage(),
    emulator: cpuSeconds(setup.emulator.entry.child.pid),
    nginx: cpuSeconds(nginxPid, true),
    replicas: setup.replicas.map(({ entry }) => cpuSeconds(entry.child.pid)),
    ours: new Set([process.pid, process.ppid, setup.emulator.entry.child.pid, nginxPid, ...childPids(nginxPid), ...setup.replicas.map(({ entry }) => entry.child.pid)]),
    processes: everyProcess(),
  };
}

/** The processes not ours that used the most CPU between two snapshots (those alive at both). */
function busiestOthers(before, after, seconds) {
  const others = [];
  for (const [pid, { command, cpu }] of after.processes) {
    const earlier = before.processes.get(pid);
    if (!earlier || after.ours.has(pid) || before.ours.has(pid)) continue;
    const cores = Math.round(((cpu - earlier.cpu) / seconds) * 100) / 100;
    if (cores >= 0.02) others.push({ pid, command, cores });
  }
  return others
    .sort((a, b) => b.cores - a.cores)
    .slice(0, 5)
    .map((other) => {
      try {
        const args = readFileSync(`/proc/${other.pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
        return { ...other, command: args.length > 70 ? `${args.slice(0, 70)}…` : args || other.command };
      } catch {
        return other;
      }
    });
}

/** Cores each part used between two snapshots. */
function cpuBetween(before, after) {
  const seconds = (after.at - before.at) / 1000;
  const cores = (value) => Math.round((value / seconds) * 100) / 100;
  const replicas = after.replicas.map((value, i) => cores(value - before.replicas[i]));
  const autocannon = cores((after.self.user + after.self.system - before.self.user - before.self.system) / 1e6);
  const emulator = cores(after.emulator - before.emulator);
  const nginx = cores(after.nginx - before.nginx);
  const machine = cores(after.machine.busy - before.machine.busy);
  const ours = replicas.reduce((sum, value) => sum + value, 0) + autocannon + emulator + nginx;
  return {
    replicas,
    replicasTotal: Math.round(replicas.reduce((sum, value) => sum + value, 0) * 100) / 100,
    nginx,
    emulator,
    autocannon,
    machine,
    // Whatever else ran on the machine meanwhile (other work, the kernel's own threads).
    other: Math.max(0, Math.round((machine - ours) * 100) / 100),
    busiestOthers: busiestOthers(before, after, seconds),
  };
}

function newCounters() {
  return { ok: 0, statuses: {}, toolErrors: 0, rpcErrors: 0, badBodies: 0, samples: [] };
}

/** Classifies every answer: HTTP status, JSON-RPC error, tool error, or the group we asked for. */
function classify(counters, groupId) {
  return (status, body) => {
    counters.statuses[status] = (counters.statuses[status] ?? 0) + 1;
    let problem;
    if (status !== 200) problem = `HTTP ${status}`;
    else if (body.includes('"isError":true')) (counters.toolErrors++, (problem = 'tool error'));
    else if (body.includes('"error":{')) (counters.rpcErrors++, (problem = 'JSON-RPC error'));
    else if (!body.includes(groupId)) (counters.badBodies++, (problem = 'unexpected body'));
    else counters.ok++;
    if (problem && counters.samples.length < 5) counters.samples.push(`${problem}: ${String(body).slice(0, 300)}`);
  };
}

function autocannonRun(autocannon, options) {
  return new Promise((resolve, reject) => {
    const instance = autocannon(options, (error, result) => (error ? reject(error) : resolve(result)));
    // Ctrl-C while it runs: stop the load at once.
    const stopOnSignal = () => instance.stop();
    process.once('SIGINT', stopOnSignal);
    instance.once('done', () => process.off('SIGINT', stopOnSignal));
  });
}

/** Reads nginx's access log: which replica answered how many, statuses, and upstream time, from `sinceMs` on. */
function readAccessLog(dir, sinceMs, untilMs) {
  const file = join(dir, 'access.log');
  const byUpstream = {};
  const statuses = {};
  const upstreamMs = [];
  if (!existsSync(file)) return { byUpstream, statuses, lines: 0 };
  let lines = 0;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [msec, status, upstream, , , upstreamTime] = line.split(' ');
    const at = Number(msec) * 1000;
    if (!line || at < sinceMs || at > untilMs) continue;
    lines++;
    statuses[status] = (statuses[status] ?? 0) + 1;
    byUpstream[upstream] = (byUpstream[upstream] ?? 0) + 1;
    const ms = Number(upstreamTime) * 1000;
    if (Number.isFinite(ms)) upstreamMs.push(ms);
  }
  upstreamMs.sort((a, b) => a - b);
  const pct = (p) => (upstreamMs.length ? upstreamMs[Math.min(upstreamMs.length - 1, Math.floor((p / 100) * upstreamMs.length))] : undefined);
  return { lines, byUpstream, statuses, upstreamMs: { p50: pct(50), p90: pct(90), p99: pct(99), max: upstreamMs.at(-1) } };
}

/** One setup: `count` fresh replicas behind a fresh nginx (same config shape), warmed up, then measured. */
async function runSetup({ autocannon, nginxBin, emulator, authToken, count, options, label, group }) {
  // What the machine is busy with before this setup starts (our own processes are idle then).
  const idleBefore = machineCpu();
  await sleep(2000);
  const idleAfter = machineCpu();
  const backgroundCores = Math.round(((idleAfter.busy - idleBefore.busy) / ((idleAfter.total - idleBefore.total) || 1)) * cpus().length * 100) / 100;
  say(`--- ${label}: starting ${count} replica${count > 1 ? 's' : ''} and nginx (background load before: ${backgroundCores} cores busy)`);
  const replicas = await startReplicas(count, emulator, authToken, label.replace(/\W+/g, '-'));
  const nginx = await startNginx(nginxBin, replicas, options.connections, label.replace(/\W+/g, '-'));
  say(`nginx on ${nginx.url} -> ${replicas.map(({ port }) => `${LOOPBACK}:${port}`).join(', ')}`);
  group ??= await pickGroup(nginx.url, authToken);

  const request = (counters) => ({
    url: `${nginx.url}/mcp`,
    connections: options.connections,
    timeout: 10,
    requests: [
      {
        method: 'POST',
        path: '/mcp',
        headers: rpcHeaders(authToken),
        body: toolCall('get_group', { group_id: group.id }),
        onResponse: classify(counters, group.id),
      },
    ],
  });

  const warmup = newCounters();
  if (options.warmup > 0) {
    say(`warming up for ${options.warmup} s (${options.connections} connections, discarded)`);
    await autocannonRun(autocannon, { ...request(warmup), duration: options.warmup });
  }
  const setup = { emulator, nginx, replicas };
  const counters = newCounters();
  const logLinesBefore = replicas.map(({ entry }) => entry.output.length);
  const before = snapshot(setup);
  const rssBefore = { emulator: rssMiB(emulator.entry.child.pid), replicas: replicas.map(({ entry }) => rssMiB(entry.child.pid)) };
  say(`measuring for ${options.duration} s: tools/call get_group ${group.id} through nginx, ${options.connections} connections`);
  const result = await autocannonRun(autocannon, { ...request(counters), duration: options.duration });
  const after = snapshot(setup);
  const rssAfter = { emulator: rssMiB(emulator.entry.child.pid), replicas: replicas.map(({ entry }) => rssMiB(entry.child.pid)) };
  if (interrupted) return undefined;

  // Let nginx flush its buffered access log (flush=1s), then stop it and the replicas before the next setup.
  await sleep(1200);
  const upstream = readAccessLog(nginx.dir, before.at, after.at);
  const nginxErrors = existsSync(join(nginx.dir, 'error.log'))
    ? readFileSync(join(nginx.dir, 'error.log'), 'utf8').split('\n').filter((line) => /\[(error|crit|alert|emerg)\]/.test(line))
    : [];
  await stop(nginx.entry);
  const replicaLogs = replicas.map(({ entry, name }, i) => ({ name, lines: entry.output.slice(logLinesBefore[i]).map(({ line }) => line) }));
  await Promise.all(replicas.map(({ entry }) => stop(entry, 'SIGTERM', 15_000)));
  const crashed = replicas.filter(({ entry }) => entry.exitCode !== 0 && entry.exitCode !== null);

  const errors = result.errors + result.non2xx + counters.toolErrors + counters.rpcErrors + counters.badBodies;
  return {
    label,
    replicas: count,
    group,
    requestsPerSecond: Math.round(result.requests.average),
    okPerSecond: Math.round(counters.ok / result.duration),
    totalRequests: result.requests.total,
    ok: counters.ok,
    durationSeconds: result.duration,
    latencyMs: {
      average: result.latency.average,
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      p99_9: result.latency.p99_9,
      max: result.latency.max,
    },
    errors,
    // What one call costs the replicas in CPU, whatever else shares the machine.
    replicaCpuMsPerCall: result.requests.total
      ? Math.round(((after.replicas.reduce((a, b) => a + b, 0) - before.replicas.reduce((a, b) => a + b, 0)) * 1000 * 100) / result.requests.total) / 100
      : undefined,
    errorDetail: {
      connectionErrors: result.errors,
      timeouts: result.timeouts,
      non2xx: result.non2xx,
      resets: result.resets,
      statuses: counters.statuses,
      toolErrors: counters.toolErrors,
      rpcErrors: counters.rpcErrors,
      unexpectedBodies: counters.badBodies,
      samples: counters.samples,
      warmupStatuses: warmup.statuses,
    },
    cpuCores: { ...cpuBetween(before, after), backgroundBefore: backgroundCores },
    rssMiB: { before: rssBefore, after: rssAfter },
    nginx: { requestsPerUpstream: upstream.byUpstream, statuses: upstream.statuses, upstreamMs: upstream.upstreamMs, errorLog: nginxErrors.slice(0, 20), errorLogLines: nginxErrors.length },
    replicaLogUnderLoad: replicaLogs.map(({ name, lines }) => ({ name, lines: lines.length, first: lines.slice(0, 10) })),
    replicaExitCodes: replicas.map(({ entry }) => entry.exitCode ?? entry.exitSignal),
    crashed: crashed.map(({ name }) => name),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Report

function table(rows) {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => String(row[column]).length)));
  return rows.map((row) => row.map((cell, column) => (column === 0 ? String(cell).padEnd(widths[column]) : String(cell).padStart(widths[column]))).join('  ')).join('\n');
}

function report(results, options, environment) {
  const [one, many] = results;
  const ratio = (a, b) => (b ? Math.round((a / b) * 100) / 100 : undefined);
  const rows = [
    ['setup', 'req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'requests', 'errors'],
    ...results.map((r) => [r.label, r.requestsPerSecond, r.latencyMs.p50, r.latencyMs.p90, r.latencyMs.p99, r.latencyMs.max, r.totalRequests, r.errors]),
    [
      `ratio ${many.replicas} vs 1`,
      `${ratio(many.requestsPerSecond, one.requestsPerSecond)}x`,
      `${ratio(many.latencyMs.p50, one.latencyMs.p50)}x`,
      `${ratio(many.latencyMs.p90, one.latencyMs.p90)}x`,
      `${ratio(many.latencyMs.p99, one.latencyMs.p99)}x`,
      `${ratio(many.latencyMs.max, one.latencyMs.max)}x`,
      '',
      '',
    ],
  ];
  console.log('');
  console.log(`MCP tools/call get_group through nginx -> replicas -> Sinch emulator; ${options.connections} connections, ${options.duration} s each after ${options.warmup} s warm-up`);
  console.log(`${environment.cpus} CPU cores, Node ${process.versions.node}, ${environment.nginx}, autocannon ${environment.autocannon}`);
  console.log('');
  console.log(table(rows));
  console.log('');
  const cpuRows = [
    ['CPU cores used', 'replicas', 'nginx', 'emulator', 'autocannon', 'other+kernel', 'machine', 'busy before', 'replica CPU ms/call'],
    ...results.map((r) => [
      r.label,
      r.cpuCores.replicas.join(' + '),
      r.cpuCores.nginx,
      r.cpuCores.emulator,
      r.cpuCores.autocannon,
      r.cpuCores.other,
      `${r.cpuCores.machine} of ${environment.cpus}`,
      r.cpuCores.backgroundBefore,
      r.replicaCpuMsPerCall,
    ]),
  ];
  console.log(table(cpuRows));
  console.log('');
  for (const r of results) {
    const spread = Object.entries(r.nginx.requestsPerUpstream).map(([upstream, n]) => `${upstream} ${n}`).join(', ');
    const u = r.nginx.upstreamMs;
    console.log(`${r.label}: nginx sent ${spread || 'nothing logged'}; upstream time p50/p90/p99/max ${u?.p50}/${u?.p90}/${u?.p99}/${u?.max} ms`);
    const detail = r.errorDetail;
    if (r.errors > 0 || detail.timeouts || detail.resets) {
      console.log(`  errors: connection ${detail.connectionErrors} (timeouts ${detail.timeouts}), non-2xx ${detail.non2xx} ${JSON.stringify(detail.statuses)}, tool ${detail.toolErrors}, JSON-RPC ${detail.rpcErrors}, unexpected body ${detail.unexpectedBodies}, resets ${detail.resets}`);
      for (const sample of detail.samples) console.log(`    ${sample}`);
    }
    if (r.cpuCores.other >= 0.1) {
      const named = r.cpuCores.busiestOthers.map(({ command, pid, cores }) => `${command}[${pid}] ${cores}`).join(', ');
      console.log(`  other+kernel ${r.cpuCores.other} cores; busiest other processes: ${named || 'none lasted the whole measurement'}`);
    }
    if (r.nginx.errorLogLines) console.log(`  nginx error.log: ${r.nginx.errorLogLines} lines, first: ${r.nginx.errorLog[0]}`);
    for (const log of r.replicaLogUnderLoad) if (log.lines) console.log(`  ${log.name} logged ${log.lines} lines under load, first: ${log.first[0]}`);
    if (r.crashed.length) console.log(`  exited badly: ${r.crashed.join(', ')} (${r.replicaExitCodes.join(', ')})`);
  }
  const busy = results.map((r) => r.cpuCores.backgroundBefore).reduce((a, b) => Math.max(a, b), 0);
  if (busy > 0.25) console.log(`\nnote: the machine was already ${busy} cores busy before a setup started (other processes); figures are noisier than on an idle machine`);
  console.log("other+kernel: CPU the machine spent beyond the processes listed, i.e. other processes and the kernel's own work (loopback networking included)");
}

// ---------------------------------------------------------------------------------------------------------

async function main() {
  const options = readOptions();
  ensureBuilt();
  const nginxBin = ensureNginx();
  const autocannon = await loadAutocannon();
  const nginxVersion = spawnSync(nginxBin, ['-v'], { encoding: 'utf8' }).stderr.trim().replace(/^nginx version: /, '');
  const autocannonVersion = JSON.parse(readFileSync(join(ROOT, 'node_modules', 'autocannon', 'package.json'), 'utf8')).version;

  // Bounded: everything after the installs must finish within this, or it is stopped.
  const budgetMs = 120_000 + 2 * (options.warmup + options.duration + 60) * 1000;
  const watchdog = setTimeout(() => {
    console.error(`[scale-demo] still running after ${budgetMs / 1000} s: stopping everything`);
    void cleanup().finally(() => process.exit(1));
  }, budgetMs);
  watchdog.unref();

  tempDir = mkdtempSync(join(tmpdir(), 'scale-demo-'));
  keepTemp = options.keepLogs;
  const authToken = randomBytes(24).toString('base64url');
  const emulator = await startEmulator();
  say(`emulator on ${emulator.url} (seeded groups)`);

  const results = [];
  let group;
  for (const [count, label] of [
    [1, '1 replica'],
    [options.replicas, `${options.replicas} replicas`],
  ]) {
    const result = await runSetup({ autocannon, nginxBin, emulator, authToken, count, options, label, group });
    if (!result) return;
    group = result.group;
    results.push(result);
  }
  const emulatorRss = rssMiB(emulator.entry.child.pid);
  await cleanup();
  clearTimeout(watchdog);

  const environment = { cpus: cpus().length, nginx: `nginx ${nginxVersion}`, autocannon: autocannonVersion };
  report(results, options, environment);
  const [one, many] = results;
  const output = {
    date: new Date().toISOString(),
    options,
    environment: { ...environment, node: process.versions.node, platform: `${process.platform}-${process.arch}` },
    ratio: {
      requestsPerSecond: Math.round((many.requestsPerSecond / one.requestsPerSecond) * 100) / 100,
      p50: Math.round((many.latencyMs.p50 / one.latencyMs.p50) * 100) / 100,
      p99: Math.round((many.latencyMs.p99 / one.latencyMs.p99) * 100) / 100,
    },
    emulatorRssMiBAtEnd: emulatorRss,
    setups: results.map(({ group: _group, ...rest }) => rest),
    totalSeconds: Math.round((Date.now() - startedAt) / 100) / 10,
  };
  writeFileSync(RESULTS, `${JSON.stringify(output, null, 2)}\n`);
  console.log(`\nfigures written to ${RESULTS}; total run time ${output.totalSeconds} s`);
  const errors = results.reduce((sum, r) => sum + r.errors, 0);
  if (errors > 0) process.exitCode = 1;
}

main().catch(async (error) => {
  if (error?.code?.startsWith?.('ERR_PARSE_ARGS')) {
    console.error(`[scale-demo] ${error.message}\n${USAGE}`);
    process.exit(2);
  }
  console.error(`[scale-demo] ${error instanceof DemoError ? error.message : (error?.stack ?? error)}`);
  await cleanup();
  process.exit(1);
});
