// npm run release -- --owner OWNER --tag vX.Y.Z: sets the version everywhere, builds and packs the extension,
// and writes its download URL and sha256 into server.json. Publishes nothing: it prints the commands that do.
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { MCPB_FILE, ROOT } from './mcpb.js';
import { run } from './packaging.js';

const REPOSITORY = 'sinch-groups-mcp';

interface Package {
  registryType: string;
  identifier: string;
  version?: string;
  fileSha256?: string;
  transport: { type: string };
}

/** The release URL of the extension, as the registry wants it: a GitHub release asset. */
export const mcpbUrl = (owner: string, tag: string) => `https://github.com/${owner}/${REPOSITORY}/releases/download/${tag}/sinch-groups-mcp.mcpb`;

/** Refuses what would make a broken release: a tag that is no version, an owner whose namespace is not the name's. */
export function releaseOf(args: { owner?: string; tag?: string }, mcpName: string): { owner: string; tag: string; version: string } {
  const { owner, tag = '' } = args;
  if (!owner || !/^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/.test(owner)) throw new Error('--owner must be the GitHub user or organisation that owns the repository');
  const version = /^v(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)$/.exec(tag)?.[1];
  if (!version) throw new Error(`--tag must be v and a version, such as v1.2.3 (got "${tag}")`);
  const name = `io.github.${owner}/${REPOSITORY}`;
  if (mcpName !== name) {
    throw new Error(`mcpName in package.json is ${mcpName}, but a release by ${owner} publishes ${name}: set it (and "name" in server.json) to ${name} first`);
  }
  return { owner, tag, version };
}

/** server.json for a release: the version everywhere, and the extension's entry with its URL and sha256. */
export function releasedServerJson<T extends { version: string; repository?: { url: string }; packages: Package[] }>(
  server: T,
  { owner, tag, version, sha256 }: { owner: string; tag: string; version: string; sha256: string },
): T {
  const mcpb: Package = { registryType: 'mcpb', identifier: mcpbUrl(owner, tag), version, fileSha256: sha256, transport: { type: 'stdio' } };
  const packages = server.packages.filter((entry) => entry.registryType !== 'mcpb').map((entry) => ({ ...entry, version }));
  return {
    ...server,
    ...(server.repository ? { repository: { ...server.repository, url: `https://github.com/${owner}/${REPOSITORY}` } } : {}),
    version,
    packages: [...packages, mcpb],
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { owner: { type: 'string' }, tag: { type: 'string' } } });
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { mcpName: string };
  const { owner, tag, version } = releaseOf(values, pkg.mcpName);
  const step = async (command: string, args: string[]) => {
    const { code, output } = await run(command, args);
    if (code !== 0) throw new Error(`${command} ${args.join(' ')} failed:\n${output}`);
  };
  // package.json and package-lock.json; the bundle and the manifest take the version from package.json.
  await step('npm', ['version', version, '--no-git-tag-version', '--allow-same-version']);
  await step('npm', ['run', '--silent', 'pack:mcpb']);
  const sha256 = createHash('sha256').update(await readFile(MCPB_FILE)).digest('hex');
  const file = join(ROOT, 'server.json');
  const server = releasedServerJson(JSON.parse(await readFile(file, 'utf8')), { owner, tag, version, sha256 });
  await writeFile(file, `${JSON.stringify(server, null, 2)}\n`);
  const mcpb = relative(ROOT, MCPB_FILE);
  console.log(
    [
      `${tag}: version ${version} in package.json, package-lock.json and server.json; ${mcpb} sha256 ${sha256}.`,
      'Nothing is published. Next:',
      `  bash .ci/check-packaging.sh`,
      `  git add package.json package-lock.json server.json && git commit -m "Release ${version}" && git tag ${tag}`,
      `  git push origin HEAD ${tag}`,
      `  gh release create ${tag} ${mcpb} --repo ${owner}/${REPOSITORY} --title ${tag}   # the asset server.json points to`,
      '  npm publish',
      '  mcp-publisher login github && mcp-publisher publish   # after npm: the registry checks the npm package',
    ].join('\n'),
  );
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main().catch((error: unknown) => {
    console.error(`release: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
