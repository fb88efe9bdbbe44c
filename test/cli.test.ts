import { describe, expect, test } from 'vitest';
import pkg from '../package.json' with { type: 'json' };
import { VERSION } from '../src/version.js';
import { cleanEnv, spawnCli } from './harness.js';

/** Code run before the command line, through `node --import`. */
const preload = (code: string) => `data:text/javascript,${encodeURIComponent(code)}`;

/** Makes the process report another Node version; `withoutFile` also takes away File, which Node 18 lacks. */
const pretendNode = (version: string, { withoutFile = false } = {}) =>
  preload(`
    ${withoutFile ? 'delete globalThis.File;' : ''}
    Object.defineProperty(process, 'version', { value: 'v${version}' });
    Object.defineProperty(process, 'versions', { value: { ...process.versions, node: '${version}' } });
  `);

/** The command line with `args`, its stdin closed unless `keepStdin`, run to its end. */
async function run(args: string[], { imports = [] as string[], keepStdin = false } = {}) {
  const { child, exited, stdout, stderr } = spawnCli(args, cleanEnv(), { node: imports.flatMap((url) => ['--import', url]) });
  if (!keepStdin) child.stdin.end();
  const code = await exited;
  child.stdin.destroy();
  return { code, stdout: stdout(), stderr: stderr() };
}

describe('the command line', () => {
  test('on Node 18 it says which Node it needs and exits 1, before loading anything that would fail there', async () => {
    for (const args of [[], ['--http'], ['--help']]) {
      const { code, stdout, stderr } = await run(args, { imports: [pretendNode('18.20.0', { withoutFile: true })] });
      expect(stderr).toBe('sinch-groups-mcp: needs Node >= 20.18.1, found v18.20.0\n');
      expect(code).toBe(1);
      expect(stdout).toBe('');
    }
  });

  test('the minimum is the one in package.json engines, to the patch version', { timeout: 20_000 }, async () => {
    // engines names the lines the suite runs on; the check refuses only what is older than all of them.
    expect(pkg.engines.node).toBe('^20.18.1 || ^22.0.0 || >=24.0.0');
    const tooOld = ['20.18.0', '20.9.5', '19.99.99'];
    const recent = ['20.18.1', '20.19.0', '21.0.0', '22.0.0', '24.1.0', '26.0.0'];
    const runs = await Promise.all([...tooOld, ...recent].map((version) => run(['--version'], { imports: [pretendNode(version)] })));
    expect(runs.map(({ code, stdout, stderr }) => ({ code, stdout, stderr }))).toEqual([
      ...tooOld.map((version) => ({ code: 1, stdout: '', stderr: `sinch-groups-mcp: needs Node >= 20.18.1, found v${version}\n` })),
      ...recent.map(() => ({ code: 0, stdout: `${VERSION}\n`, stderr: '' })),
    ]);
  });

  test('--help prints the usage on stdout; a wrong flag prints it on stderr and exits 2', async () => {
    const help = await run(['--help']);
    expect(help).toMatchObject({ code: 0, stderr: '' });
    expect(help.stdout).toMatch(/^Usage:\n {2}sinch-groups-mcp /);
    expect(help.stdout).toMatch(/MCP_MAX_CONNECTIONS/);
    expect(help.stdout).toContain('Needs Node ^20.18.1 || ^22.0.0 || >=24.0.0.');
    const wrong = await run(['--nonsense']);
    expect(wrong.code).toBe(2);
    expect(wrong.stdout).toBe('');
    expect(wrong.stderr).toMatch(/--nonsense[\s\S]*Usage:/);
  });

  test('--tools naming no tool is reported in one log line, as a wrong setting is, with exit code 1', async () => {
    for (const args of [['--tools', 'nope'], ['--http', '--port', '0', '--tools', 'nope']]) {
      const { code, stdout, stderr } = await run(args);
      expect(stderr).toMatch(/^sinch-groups-mcp: unknown tool "nope" in --tools\/SINCH_TOOLS; the tools are [a-z_, ]+\n$/);
      expect(code).toBe(1);
      expect(stdout).toBe('');
    }
  });

  test('an error nothing catches is reported in one log line and stops it with exit code 1', async () => {
    const { code, stdout, stderr } = await run([], {
      // Thrown once the command line has set up its handler, so that it is the handler that reports it.
      imports: [preload("const wait = setInterval(() => { if (process.listenerCount('uncaughtException') > 0) { clearInterval(wait); throw new Error('nobody caught this'); } }, 10);")],
      keepStdin: true,
    });
    expect(stderr).toMatch(/^sinch-groups-mcp: stopping after an unexpected error: Error: nobody caught this\n/m);
    expect(code).toBe(1);
    expect(stdout).toBe('');
  });
});
