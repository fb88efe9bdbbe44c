/**
 * Where a server's CPU time goes: V8 CPU profiles (node --cpu-prof) of the built server, each sample
 * attributed to the package or src/ folder it ran in. Bundled files are mapped back through their
 * source maps (line-level, from the profile's position ticks); without a map a file counts as itself.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  positionTicks?: { line: number; ticks: number }[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

// ─── source maps: just enough of the format to tell which source a generated position came from ───

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DIGIT = new Map([...BASE64].map((char, index) => [char, index]));

/** Per generated line: [column, source index] pairs, by column (-1: no source). */
function decodeMappings(mappings: string): [number, number][][] {
  const lines: [number, number][][] = [];
  let source = 0;
  for (const line of mappings.split(';')) {
    const segments: [number, number][] = [];
    let column = 0;
    for (const segment of line.split(',')) {
      if (segment === '') continue;
      const fields: number[] = [];
      let value = 0;
      let shift = 0;
      for (const char of segment) {
        const digit = DIGIT.get(char)!;
        value += (digit & 31) << shift;
        if (digit & 32) shift += 5;
        else {
          fields.push(value & 1 ? -(value >>> 1) : value >>> 1);
          value = 0;
          shift = 0;
        }
      }
      column += fields[0]!;
      if (fields.length > 1) source += fields[1]!;
      segments.push([column, fields.length > 1 ? source : -1]);
      // Lines and names are relative too, but only the source is needed here.
    }
    lines.push(segments);
  }
  return lines;
}

interface Mapped {
  sources: string[];
  lines: [number, number][][];
  /** The generated file's lines, for sizes. */
  text: string[];
}

const maps = new Map<string, Mapped | null>();
function sourceMapOf(url: string): Mapped | null {
  if (!maps.has(url)) {
    let mapped: Mapped | null = null;
    try {
      const file = fileURLToPath(url);
      if (existsSync(`${file}.map`)) {
        const map = JSON.parse(readFileSync(`${file}.map`, 'utf8')) as { sources: string[]; sourceRoot?: string; mappings: string };
        // Sources are relative to the map (after sourceRoot): made absolute, so that a package's own maps
        // (e.g. the SDK's dist/*.js.map pointing at ../src) still name the package.
        const sources = map.sources.map((source) => {
          try {
            return fileURLToPath(new URL(`${map.sourceRoot ?? ''}${source}`, url));
          } catch {
            return source;
          }
        });
        mapped = { sources, lines: decodeMappings(map.mappings), text: readFileSync(file, 'utf8').split('\n') };
      }
    } catch {
      mapped = null;
    }
    maps.set(url, mapped);
  }
  return maps.get(url)!;
}

/** The source of a generated position (0-based line and column). */
function sourceAt(map: Mapped, line: number, column: number): string | undefined {
  for (let l = Math.min(line, map.lines.length - 1); l >= 0; l--) {
    const segments = map.lines[l]!;
    if (segments.length === 0) continue;
    let found = l === line ? undefined : segments.at(-1);
    if (l === line) {
      for (const segment of segments) {
        if (segment[0] <= column) found = segment;
        else break;
      }
      found ??= segments[0];
    }
    return found && found[1] >= 0 ? map.sources[found[1]] : undefined;
  }
  return undefined;
}

/** The source file a profile frame's function starts in (through the source map), or its URL. */
export function sourceOfFrame(callFrame: ProfileNode['callFrame']): string {
  if (!callFrame.url.startsWith('file:')) return callFrame.url || `(${callFrame.functionName})`;
  const map = sourceMapOf(callFrame.url);
  if (!map) return fileURLToPath(callFrame.url);
  return sourceAt(map, callFrame.lineNumber, callFrame.columnNumber) ?? '(bundle glue)';
}

/** "zod", "@modelcontextprotocol/sdk", "src/sinch", "node (internal)", … */
export function packageOf(source: string): string {
  const modules = source.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const parts = source.slice(modules + 'node_modules/'.length).split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  const src = source.lastIndexOf('src/');
  if (src >= 0) {
    const parts = source.slice(src).split('/');
    return parts.length > 2 ? `${parts[0]}/${parts[1]}` : parts.join('/');
  }
  if (source.startsWith('node:')) return 'node (internal)';
  return source.replace(/^.*\//, '');
}

/** A source path shortened for display: from node_modules/ or src/ on. */
export function fileOf(source: string): string {
  const modules = source.lastIndexOf('node_modules/');
  if (modules >= 0) return source.slice(modules + 'node_modules/'.length);
  const src = source.lastIndexOf('src/');
  return src >= 0 ? source.slice(src) : source;
}

const SPECIAL: Record<string, string> = {
  '(program)': '(program): V8 parse/compile, native code',
  '(garbage collector)': '(garbage collector)',
  '(idle)': '(idle): waiting for I/O',
  '(root)': '(program): V8 parse/compile, native code',
};

export interface Attribution {
  /** Sampled milliseconds by package (or special category). */
  byPackage: Map<string, number>;
  /** Sampled milliseconds by source file. */
  byFile: Map<string, number>;
  totalMs: number;
}

export const emptyAttribution = (): Attribution => ({ byPackage: new Map(), byFile: new Map(), totalMs: 0 });

/**
 * Self time of every sample, attributed line by line to its source; with `window` (microseconds on
 * the monotonic clock, as process.hrtime), only the samples taken within it.
 */
export function attribute(profile: CpuProfile, into: Attribution = emptyAttribution(), window?: { fromUs: number; toUs: number }): Attribution {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0;
    if (window && (at < window.fromUs || at > window.toUs)) continue;
    // A sample stands for the time until the next one (as Chrome's DevTools count it).
    const delta = profile.timeDeltas[i + 1] ?? 0;
    selfUs.set(profile.samples[i]!, (selfUs.get(profile.samples[i]!) ?? 0) + delta);
  }
  const add = (pkg: string, file: string, us: number) => {
    into.byPackage.set(pkg, (into.byPackage.get(pkg) ?? 0) + us / 1000);
    into.byFile.set(file, (into.byFile.get(file) ?? 0) + us / 1000);
    into.totalMs += us / 1000;
  };
  for (const [id, us] of selfUs) {
    const { callFrame, positionTicks } = byId.get(id)!;
    const special = SPECIAL[callFrame.functionName];
    if (callFrame.url === '' || callFrame.url.startsWith('node:')) {
      // Node's module loader hands the source of each ES module to V8 here: this is parse and compile.
      if (callFrame.functionName === 'compileSourceTextModule' || callFrame.functionName === 'compileFunctionForCJSLoader') {
        add('V8 compile of the loaded JS (module source)', `compile: ${callFrame.functionName}`, us);
        continue;
      }
      if (callFrame.functionName === 'compileForInternalLoader') {
        add('node built-in modules loaded on demand', `compile: node built-ins`, us);
        continue;
      }
    }
    if (callFrame.url === '') {
      const name = special ?? 'native (V8/Node C++ builtins)';
      add(name, special ? name : `native: ${callFrame.functionName}`, us);
      continue;
    }
    if (callFrame.url.startsWith('wasm:')) {
      add('undici', 'undici llhttp (WebAssembly HTTP parser)', us);
      continue;
    }
    if (callFrame.url === 'node:internal/deps/undici/undici') {
      // Node's own copy of undici (behind fetch, Headers, WebSocket): loaded on first touch of one of those globals.
      add("node's built-in undici (a global such as Headers touched)", callFrame.url, us);
      continue;
    }
    if (callFrame.url.startsWith('node:')) {
      add('node (internal)', callFrame.url, us);
      continue;
    }
    const map = callFrame.url.startsWith('file:') ? sourceMapOf(callFrame.url) : null;
    if (!map) {
      const path = callFrame.url.startsWith('file:') ? fileURLToPath(callFrame.url) : callFrame.url;
      add(packageOf(path), fileOf(path), us);
      continue;
    }
    const ticks = positionTicks?.length ? positionTicks : [{ line: callFrame.lineNumber + 1, ticks: 1 }];
    const total = ticks.reduce((sum, tick) => sum + tick.ticks, 0);
    for (const tick of ticks) {
      const line = tick.line - 1;
      const column = line === callFrame.lineNumber ? callFrame.columnNumber : (map.lines[line]?.[0]?.[0] ?? 0);
      // esbuild's __commonJS wrapper: a CommonJS module's body is compiled lazily when first required,
      // and V8 counts that compile to the caller, this wrapper.
      const source = sourceAt(map, line, column) ?? (/^__require/.test(callFrame.functionName) ? '(esbuild __require: lazy compile of CommonJS modules)' : '(bundle top level)');
      add(packageOf(source), fileOf(source), (us * tick.ticks) / total);
    }
  }
  return into;
}

/** Bytes of generated code per package in the given bundled files (those with a source map). */
export function bundleComposition(urls: Iterable<string>): { file: string; bytes: number; byPackage: Map<string, number> }[] {
  const result = [];
  for (const url of urls) {
    const map = sourceMapOf(url);
    const file = fileURLToPath(url);
    const byPackage = new Map<string, number>();
    let bytes = 0;
    if (map) {
      map.lines.forEach((segments, line) => {
        const text = map.text[line] ?? '';
        bytes += Buffer.byteLength(text) + 1;
        segments.forEach(([column, source], index) => {
          const end = segments[index + 1]?.[0] ?? text.length;
          const pkg = source >= 0 ? packageOf(map.sources[source]!) : '(bundle glue)';
          byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + Math.max(0, end - column));
        });
      });
    } else {
      bytes = Buffer.byteLength(readFileSync(file));
    }
    result.push({ file, bytes, byPackage });
  }
  return result;
}

/** Directories not removed yet: removed on exit too, when the run is interrupted (rpc.ts exits on SIGINT and SIGTERM). */
const temporary = new Set<string>();
process.on('exit', () => {
  for (const dir of temporary) rmSync(dir, { recursive: true, force: true });
});

/** A fresh directory for `--cpu-prof-dir`, and the profiles written into it once the process exits. */
export function profileDir(): { dir: string; read(): CpuProfile[]; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'sinch-bench-prof-'));
  temporary.add(dir);
  const remove = () => {
    rmSync(dir, { recursive: true, force: true });
    temporary.delete(dir);
  };
  return {
    dir,
    read: () =>
      readdirSync(dir)
        .filter((name) => name.endsWith('.cpuprofile'))
        .map((name) => JSON.parse(readFileSync(join(dir, name), 'utf8')) as CpuProfile),
    remove,
  };
}

/** The file: URLs of scripts that ran, as the profile names them. */
export function scriptsIn(profile: CpuProfile): Set<string> {
  return new Set(profile.nodes.map((node) => node.callFrame.url).filter((url) => url.startsWith('file:')));
}
