/**
 * Bundles small entries with esbuild the way the CLI ships (one ES module for node, CommonJS
 * dependencies behind createRequire), so that their start-up cost compares with ours.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface Bundles {
  /** The bundled file of each entry, by name. */
  files: Record<string, string>;
  remove(): void;
}

/** Each entry is either ES module source (resolved from the project root) or `{ file }`; each becomes one file. */
/** Directories not removed yet: removed on exit too, when the run is interrupted (rpc.ts exits on SIGINT and SIGTERM). */
const temporary = new Set<string>();
process.on('exit', () => {
  for (const dir of temporary) rmSync(dir, { recursive: true, force: true });
});

export async function bundleEntries(entries: Record<string, string | { file: string }>): Promise<Bundles> {
  const dir = mkdtempSync(join(tmpdir(), 'sinch-bench-bundle-'));
  temporary.add(dir);
  const remove = () => {
    rmSync(dir, { recursive: true, force: true });
    temporary.delete(dir);
  };
  const files: Record<string, string> = {};
  await Promise.all(
    Object.entries(entries).map(async ([name, entry], index) => {
      const outfile = join(dir, `entry-${index}.mjs`);
      await build({
        ...(typeof entry === 'string'
          ? { stdin: { contents: entry, resolveDir: ROOT, sourcefile: `${name}.mjs`, loader: 'js' as const } }
          : { entryPoints: [entry.file] }),
        outfile,
        bundle: true,
        format: 'esm',
        platform: 'node',
        target: 'node20',
        logLevel: 'silent',
        banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
      });
      files[name] = outfile;
    }),
  );
  return { files, remove };
}
