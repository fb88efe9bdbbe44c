import pkg from '../package.json' with { type: 'json' };

export const NAME = pkg.name;
export const VERSION = pkg.version;
export const USER_AGENT = `${NAME}/${VERSION} node/${process.versions.node}`;
