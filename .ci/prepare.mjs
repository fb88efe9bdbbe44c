// The package's prepare script: npm runs it after `npm install` / `npm ci` in a checkout, and before `npm pack`
// and `npm publish`. It builds dist/ with `npm run build`, which needs esbuild, a dev dependency. Under
// `--omit=dev` esbuild is absent: the install must still succeed, so this says why nothing was built, in one
// line on stderr, and exits 0. A build that fails with esbuild present fails the install, as it should.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const root = new URL('..', import.meta.url);

try {
  createRequire(root).resolve('esbuild');
} catch {
  const built = existsSync(new URL('dist/cli/index.js', root));
  process.stderr.write(
    built
      ? 'sinch-groups-mcp: esbuild is not installed (dev dependencies omitted), so dist/ was not rebuilt: the build already there is kept\n'
      : 'sinch-groups-mcp: esbuild is not installed (dev dependencies omitted), so dist/ was not built: run `npm install` with the dev dependencies and `npm run build`, then `npm prune --omit=dev` if you like\n',
  );
  process.exit(0);
}

// npm_execpath is the npm that runs this script; a plain `npm` from PATH might be another one.
const npm = process.env.npm_execpath;
const build = npm
  ? spawnSync(process.execPath, [npm, 'run', 'build'], { stdio: 'inherit' })
  : spawnSync('npm', ['run', 'build'], { stdio: 'inherit', shell: process.platform === 'win32' });
if (build.error) process.stderr.write(`sinch-groups-mcp: could not run \`npm run build\`: ${build.error.message}\n`);
process.exit(build.status ?? 1);
