/**
 * The servers the bench spawns, as plain JavaScript for node: ours as built (dist/), and the bare references
 * compiled from bench/*.ts by esbuild into node_modules/.cache/sinch-bench (inside the project, so that their
 * packages resolve from its node_modules). The bare server comes twice: loading the SDK as files from
 * node_modules, and as one minified bundle made the way ours is.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions } from 'esbuild';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = `${ROOT}node_modules/.cache/sinch-bench`;

export interface Servers {
  ours: string;
  bare: string;
  bareBundled: string;
  bareProxy: string;
  heapProbe: string;
}

export async function buildServers(ours: string): Promise<Servers> {
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  const common: BuildOptions = { bundle: true, format: 'esm', platform: 'node', target: 'node20', logLevel: 'warning' };
  const compile = async (name: string, bundled = false) => {
    const outfile = `${OUT}/${name}${bundled ? '.bundled' : ''}.mjs`;
    await build({
      ...common,
      entryPoints: [`${ROOT}bench/${name}.ts`],
      outfile,
      // Bundled like dist/cli (minified, CommonJS dependencies behind createRequire), or loading packages as installed.
      ...(bundled
        ? { minify: true, banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" } }
        : { packages: 'external' }),
    });
    return outfile;
  };
  const [bare, bareBundled, bareProxy, heapProbe] = await Promise.all([compile('bare-server'), compile('bare-server', true), compile('bare-proxy'), compile('heap-probe')]);
  return { ours, bare, bareBundled, bareProxy, heapProbe };
}
