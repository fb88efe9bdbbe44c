/**
 * `npm run bench`: the MCP server as clients run it (the built CLI spawned over stdio) against the Sinch emulator
 * started here, beside a bare SDK server with one tool. It measures, then prints one report on stdout (progress
 * goes to stderr). Not a test: nothing fails on a slow figure, only on a wrong answer.
 *
 * Environment: BENCH_CLI overrides the server's entry (default dist/cli/index.js).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { getGlobalDispatcher } from 'undici';
import { startEmulator } from '../src/emulator/server.js';
import { measureAcrossGroups, measureContext, measureLargeGroups, measureMemory, measurePerCall, measureStartup, ready, type Setup } from './measure.js';
import { report } from './report.js';
import { killAll, RpcChild } from './rpc.js';
import { buildServers, ROOT } from './servers.js';

/** What git says, or nothing where there is no git or no repository. */
const git = (...args: string[]) => spawnSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).stdout?.trim() ?? '';

async function main(): Promise<void> {
  const cli = process.env.BENCH_CLI ?? `${ROOT}dist/cli/index.js`;
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build first`);
  const servers = await buildServers(cli);
  const emulator = await startEmulator();
  // Only the emulator's Sinch settings, and no NODE_OPTIONS that would change every server alike.
  const inherited = Object.entries(process.env).filter(([name]) => !/^(SINCH_|MCP_|NODE_OPTIONS)/.test(name));
  // The change journal on, as stdio users have it, but in a folder of the bench's own, never the user's.
  const journal = mkdtempSync(join(tmpdir(), 'sinch-bench-'));
  const env = { ...Object.fromEntries(inherited), SINCH_SMS_BASE_URL: emulator.url, SINCH_SERVICE_PLAN_ID: emulator.servicePlanId, SINCH_API_TOKEN: emulator.apiToken, SINCH_JOURNAL: join(journal, 'journal.jsonl') };
  const setup: Setup = { emulator, env, servers };
  const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');
  const about = [
    `sinch-groups-mcp bench, ${new Date().toISOString()}`,
    `node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}; commit ${git('rev-parse', '--short', 'HEAD') || 'unknown'}${git('status', '--porcelain', '--', 'src') ? ' (src/ changed since)' : ''}`,
    `server: ${cli.replace(ROOT, '')}, with Sinch credentials, against the emulator in the bench's process (as with an account); load average at start ${load()}`,
  ];
  try {
    const startup = await measureStartup(setup);
    const perCall = await measurePerCall(setup);
    const server = await ready(new RpcChild(process.execPath, [servers.ours], env));
    const large = await measureLargeGroups(setup, server);
    const context = await measureContext(setup, server, large.groupId);
    const across = await measureAcrossGroups(setup, server);
    await server.close();
    const memory = await measureMemory(setup);
    about.push(`whole run ${(performance.now() / 1000).toFixed(0)} s; load average at end ${load()}`);
    process.stdout.write(`${report({ about, startup, perCall, large, context, across, memory })}\n`);
  } finally {
    await emulator.close();
    await getGlobalDispatcher().close();
    rmSync(journal, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  // Servers still running would keep this process alive.
  killAll();
  process.exit(1);
});
