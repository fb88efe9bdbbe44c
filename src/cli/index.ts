#!/usr/bin/env node
import pkg from '../../package.json' with { type: 'json' };

// On an older Node the server dies inside undici (ReferenceError: File is not defined) with no hint why. The
// version is checked before anything else is loaded, which is why the rest comes through a dynamic import:
// static imports would be evaluated first.
const minimum = /\d+\.\d+\.\d+/.exec(pkg.engines.node)![0];
if (!atLeast(process.versions.node, minimum)) {
  process.stderr.write(`sinch-groups-mcp: needs Node >= ${minimum}, found ${process.version}\n`);
  process.exit(1);
}
await import('./main.js');

function atLeast(version: string, minimum: string): boolean {
  const have = version.split('.').map((part) => Number.parseInt(part, 10));
  const need = minimum.split('.').map((part) => Number.parseInt(part, 10));
  for (const [i, part] of need.entries()) {
    if (have[i] !== part) return (have[i] ?? 0) > part;
  }
  return true;
}
