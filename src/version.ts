import { createRequire } from 'node:module';

// package.json sits one level above both src/ and dist/, so the same relative path serves both.
const pkg = createRequire(import.meta.url)('../package.json') as { name: string; version: string };

export const NAME = pkg.name;
export const VERSION = pkg.version;
export const USER_AGENT = `${NAME}/${VERSION} node/${process.versions.node}`;
