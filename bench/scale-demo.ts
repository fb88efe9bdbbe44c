/**
 * `npm run scale-demo`: one Sinch emulator, MCP replicas in HTTP mode behind nginx, and a load of concurrent
 * `tools/call get_group` through nginx; first with 1 replica, then with N, to compare like with like.
 *
 *   npm run scale-demo -- --replicas 3 --connections 64 --duration 20 --warmup 5
 *
 * It uses the nginx on PATH and installs nothing: without one it says how to install it and stops. nginx runs
 * from a temporary prefix with its own config, pid and logs (no system configuration is read or changed). Every
 * process starts on 127.0.0.1 in its own process group and is stopped on exit, on error and on Ctrl-C. The CPU
 * figures count only the demo's own processes: the replicas, nginx (master and workers), the emulator, and the
 * load, which runs in this process.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { int, ms, percentile, ratio, table } from './format.js';
import { childrenOf, cpuMsOf, memoryOf } from './proc.js';
import { ROOT } from './servers.js';

const CLI = join(ROOT, 'dist', 'cli', 'index.js');
const LOOPBACK = '127.0.0.1';
/** The public name nginx forwards in Host, as a real deployment would; the replicas allow it in MCP_ALLOWED_HOSTS. */
const PUBLIC_HOST = 'mcp.scale-demo.test';
const INSTALL_NGINX = `nginx is not installed (command -v nginx found nothing). Install it (Debian, Ubuntu: sudo apt-get install -y nginx;
Fedora, RHEL: sudo dnf install -y nginx; Alpine: sudo apk add nginx; macOS: brew install nginx) and run the demo again.
It runs its own nginx from a temporary folder; the system service the package may start is not used.`;

const say = (message: string) => process.stderr.write(`[scale-demo] ${message}\n`);

class DemoError extends Error {}

function options() {
  const { values } = parseArgs({
    options: {
      replicas: { type: 'string', default: '2' },
      connections: { type: 'string', default: '32' },
      duration: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '3' },
      'keep-logs': { type: 'boolean', default: false },
    },
  });
  const whole = (name: 'replicas' | 'connections' | 'duration' | 'warmup', min: number, max: number) => {
    const value = Number(values[name]);
    if (!Number.isInteger(value) || value < min || value > max) throw new DemoError(`--${name} must be a whole number from ${min} to ${max}, not "${values[name]}"`);
    return value;
  };
  return { replicas: whole('replicas', 2, 16), connections: whole('connections', 1, 1000), duration: whole('duration', 1, 600), warmup: whole('warmup', 0, 120), keepLogs: values['keep-logs'] };
}

// ─── the processes the demo starts ───

interface Started {
  name: string;
  child: ChildProcess;
  exited: Promise<void>;
}
const started = new Set<Started>();
let folder = '';

/** Starts a process in its own group, its output to a log file in the demo's folder. */
function launch(name: string, command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Started {
  const child = spawn(command, args, { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = createWriteStream(join(folder, `${name.replace(/\W+/g, '-')}.log`));
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  const entry: Started = { name, child, exited: new Promise((resolve) => child.once('close', () => resolve())) };
  void entry.exited.then(() => started.delete(entry));
  started.add(entry);
  return entry;
}

const killGroup = (entry: Started, signal: NodeJS.Signals) => {
  try {
    process.kill(-entry.child.pid!, signal);
  } catch {
    // The group has gone already.
  }
};

/** SIGTERM, up to `graceMs` to exit, then SIGKILL to whatever is left of its group (nginx's workers). */
async function stop(entry: Started, graceMs = 5_000): Promise<void> {
  killGroup(entry, 'SIGTERM');
  await Promise.race([entry.exited, sleep(graceMs)]);
  killGroup(entry, 'SIGKILL');
  await entry.exited;
}

/** nginx first (no new traffic), then the replicas, then the emulator. */
async function stopAll(keepLogs: boolean): Promise<void> {
  for (const prefix of ['nginx', 'replica', 'emulator']) await Promise.all([...started].filter((entry) => entry.name.startsWith(prefix)).map((entry) => stop(entry)));
  if (!folder) return;
  if (keepLogs) say(`logs kept in ${folder}`);
  else rmSync(folder, { recursive: true, force: true });
}

process.on('exit', () => started.forEach((entry) => killGroup(entry, 'SIGKILL')));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, LOOPBACK, resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Waits until `url` answers HTTP at all (any status), or the process exits, or 20 s pass. */
async function answering(url: string, entry: Started): Promise<void> {
  let exited = false;
  void entry.exited.then(() => (exited = true));
  for (const deadline = Date.now() + 20_000; Date.now() < deadline && !exited; await sleep(100)) {
    try {
      await (await fetch(url, { signal: AbortSignal.timeout(2_000) })).arrayBuffer();
      return;
    } catch {
      // Not listening yet.
    }
  }
  throw new DemoError(`${entry.name} ${exited ? 'exited' : 'did not answer within 20 s'}: see ${join(folder, `${entry.name.replace(/\W+/g, '-')}.log`)} (run with --keep-logs)`);
}

const cleanEnv = (extra: Record<string, string>) => ({ ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(SINCH_|MCP_)/.test(name))), ...extra });

function nginxConfig(dir: string, port: number, replicaPorts: number[], connections: number): string {
  return `daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections ${Math.max(1024, connections * 4)}; }
http {
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  log_format upstream '$upstream_addr';
  access_log ${dir}/access.log upstream buffer=256k flush=1s;
  keepalive_requests 1000000;
  upstream replicas {
${replicaPorts.map((replicaPort) => `    server ${LOOPBACK}:${replicaPort} max_fails=0;`).join('\n')}
    keepalive ${Math.max(16, connections * 2)};
    keepalive_requests 1000000;
    # Node closes idle connections after 5 s; closing ours first avoids reusing one it is closing.
    keepalive_timeout 4s;
  }
  server {
    listen ${LOOPBACK}:${port};
    location / {
      proxy_pass http://replicas;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host ${PUBLIC_HOST};
      # Streamable HTTP may answer as server-sent events: pass them on as they come.
      proxy_buffering off;
    }
  }
}
`;
}

// ─── one setup: replicas behind nginx, under load ───

interface Environment {
  nginx: string;
  emulator: Started;
  emulatorUrl: string;
  servicePlanId: string;
  apiToken: string;
  authToken: string;
  groupId: string;
}

async function startSetup(env: Environment, count: number, connections: number) {
  const ports = await Promise.all(Array.from({ length: count }, freePort));
  const replicas = ports.map((port, i) =>
    launch(`replica ${i + 1} of ${count}`, process.execPath, [CLI, '--http', '--host', LOOPBACK, '--port', String(port)], cleanEnv({
      SINCH_SMS_BASE_URL: env.emulatorUrl,
      SINCH_SERVICE_PLAN_ID: env.servicePlanId,
      SINCH_API_TOKEN: env.apiToken,
      MCP_AUTH_TOKEN: env.authToken,
      MCP_ALLOWED_HOSTS: PUBLIC_HOST,
    })),
  );
  await Promise.all(replicas.map((replica, i) => answering(`http://${LOOPBACK}:${ports[i]}/healthz`, replica)));
  const dir = join(folder, `nginx-${count}`);
  mkdirSync(dir);
  // As root, nginx's workers run as an unprivileged user: let them into their prefix.
  chmodSync(folder, 0o755);
  chmodSync(dir, 0o755);
  const port = await freePort();
  writeFileSync(join(dir, 'nginx.conf'), nginxConfig(dir, port, ports, connections));
  const args = ['-p', `${dir}/`, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')];
  const test = spawnSync(env.nginx, ['-t', '-q', ...args], { encoding: 'utf8' });
  if (test.status !== 0) throw new DemoError(`nginx refused its configuration:\n${test.stderr}`);
  const nginx = launch(`nginx for ${count}`, env.nginx, args);
  await answering(`http://${LOOPBACK}:${port}/healthz`, nginx);
  return { replicas, nginx, url: `http://${LOOPBACK}:${port}`, dir };
}

interface Load {
  latencies: number[];
  ok: number;
  failed: number;
  firstFailure?: string;
  seconds: number;
}

/** `connections` clients, each sending tools/call get_group through nginx one after another for `seconds`. */
async function load(env: Environment, url: string, connections: number, seconds: number): Promise<Load> {
  const pool = new Pool(url, { connections, pipelining: 1 });
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'get_group', arguments: { group_id: env.groupId } } });
  const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${env.authToken}` };
  const result: Load = { latencies: [], ok: 0, failed: 0, seconds };
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  const client = async () => {
    while (performance.now() < end) {
      const sent = performance.now();
      try {
        const response = await pool.request({ path: '/mcp', method: 'POST', headers, body });
        const text = await response.body.text();
        result.latencies.push(performance.now() - sent);
        if (response.statusCode === 200 && text.includes(env.groupId) && !text.includes('"isError":true')) result.ok++;
        else throw new Error(`HTTP ${response.statusCode}: ${text.slice(0, 300)}`);
      } catch (error) {
        result.failed++;
        result.firstFailure ??= error instanceof Error ? error.message : String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: connections }, client));
  result.seconds = (performance.now() - t0) / 1000;
  await pool.close();
  return result;
}

async function runSetup(env: Environment, count: number, opts: ReturnType<typeof options>) {
  say(`${count} replica${count > 1 ? 's' : ''}: starting them and nginx`);
  const setup = await startSetup(env, count, opts.connections);
  const accessLog = join(setup.dir, 'access.log');
  // nginx flushes its buffered access log every second: what was logged before the measurement is skipped.
  const logged = async () => (await sleep(1_200), readFileSync(accessLog, 'utf8').length);
  if (opts.warmup > 0) await load(env, setup.url, opts.connections, opts.warmup);
  const loggedBefore = await logged();
  const cpu = () => ({
    replicas: setup.replicas.map(({ child }) => cpuMsOf(child.pid!)),
    nginx: [setup.nginx.child.pid!, ...childrenOf(setup.nginx.child.pid!)].reduce((sum, pid) => sum + cpuMsOf(pid), 0),
    emulator: cpuMsOf(env.emulator.child.pid!),
    load: (process.cpuUsage().user + process.cpuUsage().system) / 1000,
  });
  say(`measuring for ${opts.duration} s with ${opts.connections} connections`);
  const before = cpu();
  const measured = await load(env, setup.url, opts.connections, opts.duration);
  const after = cpu();
  const rssKiB = setup.replicas.map(({ child }) => memoryOf(child.pid!).rssKiB);
  await logged();
  const byReplica = new Map<string, number>();
  for (const line of readFileSync(accessLog, 'utf8').slice(loggedBefore).split('\n').filter(Boolean)) byReplica.set(line, (byReplica.get(line) ?? 0) + 1);
  await stop(setup.nginx);
  await Promise.all(setup.replicas.map((replica) => stop(replica, 15_000)));
  const cores = (msUsed: number) => msUsed / 1000 / measured.seconds;
  const replicaCpuMs = after.replicas.reduce((sum, value, i) => sum + value - before.replicas[i]!, 0);
  return {
    count,
    ...measured,
    perSecond: measured.ok / measured.seconds,
    cores: {
      replicas: after.replicas.map((value, i) => cores(value - before.replicas[i]!)),
      nginx: cores(after.nginx - before.nginx),
      emulator: cores(after.emulator - before.emulator),
      load: cores(after.load - before.load),
    },
    replicaCpuMsPerCall: replicaCpuMs / (measured.ok + measured.failed),
    rssKiB,
    byReplica,
  };
}

function print(results: Awaited<ReturnType<typeof runSetup>>[], opts: ReturnType<typeof options>, nginxVersion: string): void {
  const [one, many] = results as [Awaited<ReturnType<typeof runSetup>>, Awaited<ReturnType<typeof runSetup>>];
  const p = (run: Load, q: number) => percentile(run.latencies, q);
  const lines = [
    '',
    `tools/call get_group through nginx → replicas → Sinch emulator: ${opts.connections} connections, ${opts.duration} s each after ${opts.warmup} s warm-up`,
    `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}, ${nginxVersion}; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`,
    '',
    table(
      ['setup', 'calls/s', 'p50', 'p90', 'p99', 'calls', 'failed'],
      [
        ...results.map((r) => [`${r.count} replica${r.count > 1 ? 's' : ''}`, int(r.perSecond), ms(p(r, 50), 1), ms(p(r, 90), 1), ms(p(r, 99), 1), int(r.ok), int(r.failed)]),
        [`${many.count} vs 1`, ratio(many.perSecond / one.perSecond), ratio(p(many, 50) / p(one, 50)), ratio(p(many, 90) / p(one, 90)), ratio(p(many, 99) / p(one, 99))],
      ],
    ),
    '',
    table(
      ['CPU cores used', 'replicas', 'nginx', 'emulator', 'load (this process)', 'replica CPU per call'],
      results.map((r) => [`${r.count} replica${r.count > 1 ? 's' : ''}`, r.cores.replicas.map((c) => c.toFixed(2)).join(' + '), r.cores.nginx.toFixed(2), r.cores.emulator.toFixed(2), r.cores.load.toFixed(2), ms(r.replicaCpuMsPerCall, 2)]),
    ),
    '',
    ...results.map((r) => `${r.count} replica${r.count > 1 ? 's' : ''}: nginx sent ${[...r.byReplica].map(([replica, calls]) => `${int(calls)} to ${replica}`).join(', ')}; replica RSS ${r.rssKiB.map((kib) => `${(kib / 1024).toFixed(0)} MiB`).join(', ')}`),
    ...results.filter((r) => r.firstFailure).map((r) => `${r.count} replica(s): first failure: ${r.firstFailure}`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function main(): Promise<void> {
  const opts = options();
  const nginx = spawnSync('sh', ['-c', 'command -v nginx'], { encoding: 'utf8' }).stdout.trim();
  if (!nginx) {
    process.stderr.write(`${INSTALL_NGINX}\n`);
    process.exitCode = 1;
    return;
  }
  if (!existsSync(CLI)) throw new DemoError(`${CLI} is missing: run npm run build`);
  const nginxVersion = spawnSync(nginx, ['-v'], { encoding: 'utf8' }).stderr.trim().replace(/^nginx version: /, '');
  folder = mkdtempSync(join(tmpdir(), 'scale-demo-'));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stopAll(opts.keepLogs).finally(() => process.exit(130)));
  try {
    const servicePlanId = randomBytes(16).toString('hex');
    const apiToken = randomBytes(16).toString('hex');
    const port = await freePort();
    const emulator = launch('emulator', process.execPath, [CLI, 'emulator', '--host', LOOPBACK, '--port', String(port), '--service-plan-id', servicePlanId, '--api-token', apiToken], cleanEnv({}));
    const emulatorUrl = `http://${LOOPBACK}:${port}`;
    await answering(emulatorUrl, emulator);
    // The group every call reads, made through the emulator's own API.
    const created = await fetch(`${emulatorUrl}/xms/v1/${servicePlanId}/groups`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Scale demo', members: ['14155550100', '14155550101'] }),
    });
    const { id: groupId } = (await created.json()) as { id: string };
    const env: Environment = { nginx, emulator, emulatorUrl, servicePlanId, apiToken, authToken: randomBytes(24).toString('base64url'), groupId };
    const results = [await runSetup(env, 1, opts), await runSetup(env, opts.replicas, opts)];
    print(results, opts, nginxVersion);
    if (results.some((r) => r.failed > 0)) process.exitCode = 1;
  } finally {
    await stopAll(opts.keepLogs);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`[scale-demo] ${error instanceof DemoError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
