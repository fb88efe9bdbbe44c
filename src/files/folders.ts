import { realpath } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A file argument that may not be used; nothing was read or written. */
export class FileRefusal extends Error {
  override readonly name = 'FileRefusal';
}

export interface FileSettings {
  /** Folders from --files and SINCH_FILES_DIR. */
  folders: readonly string[];
  /** Whether the client's roots (roots/list) are allowed too: over stdio, not in HTTP mode. */
  roots: boolean;
  /** Why file arguments are refused whatever the folders, e.g. per-request credentials. */
  refusal?: string;
}

const HOW_TO_ALLOW = 'start the server with --files DIR (or set SINCH_FILES_DIR), or use a client that shares its roots';

/**
 * The folders one session may read and write files in: those configured, and the client's roots when
 * it offers them. Every path is resolved, symlinks included, before it is checked, so a link inside an
 * allowed folder that points out of it is refused.
 */
export class FileAccess {
  #roots: string[] = [];
  #refresh: Promise<void> = Promise.resolve();

  constructor(readonly settings: FileSettings) {}

  /** Takes the client's roots (file:// URIs; others are ignored), e.g. after roots/list_changed. */
  useRoots(load: () => Promise<string[]>): void {
    if (!this.settings.roots) return;
    // A call arriving meanwhile waits for the roots, rather than being refused for want of them.
    this.#refresh = load()
      .then((uris) => {
        this.#roots = uris.filter((uri) => uri.startsWith('file://')).map((uri) => fileURLToPath(uri));
      })
      .catch(() => {
        this.#roots = [];
      });
  }

  /** Every allowed folder, resolved; folders that do not exist are left out. */
  async folders(): Promise<string[]> {
    await this.#refresh;
    const resolved = await Promise.all([...this.settings.folders, ...this.#roots].map((folder) => realpath(folder).catch(() => undefined)));
    return [...new Set(resolved.filter((folder): folder is string => folder !== undefined))];
  }

  /** The real path of an existing file to read, if it lies in an allowed folder. */
  async readable(path: string, field: string): Promise<string> {
    const folders = await this.#allowed(path, field);
    let real: string;
    try {
      real = await realpath(path);
    } catch (error) {
      throw new FileRefusal(`${field}: ${JSON.stringify(path)} cannot be read (${codeOf(error)})`);
    }
    return this.#inside(real, path, field, folders);
  }

  /** The real path a new file would have (its folder resolved), if that lies in an allowed folder. */
  async writable(path: string, field: string): Promise<string> {
    const folders = await this.#allowed(path, field);
    let parent: string;
    try {
      parent = await realpath(dirname(path));
    } catch (error) {
      throw new FileRefusal(`${field}: the folder of ${JSON.stringify(path)} cannot be used (${codeOf(error)})`);
    }
    return this.#inside(join(parent, basename(path)), path, field, folders);
  }

  async #allowed(path: string, field: string): Promise<string[]> {
    if (this.settings.refusal) throw new FileRefusal(`${field}: ${this.settings.refusal}`);
    const folders = await this.folders();
    if (folders.length === 0) throw new FileRefusal(`${field}: no folder is open to this server for files; ${HOW_TO_ALLOW}`);
    if (!isAbsolute(path)) throw new FileRefusal(`${field}: ${JSON.stringify(path)} is not an absolute path; give the full path of the file`);
    return folders;
  }

  #inside(real: string, given: string, field: string, folders: string[]): string {
    if (folders.some((folder) => within(folder, real))) return real;
    const via = real === given ? '' : ` (it resolves to ${JSON.stringify(real)})`;
    throw new FileRefusal(
      `${field}: ${JSON.stringify(given)}${via} is outside the folders this server may use: ${folders.map((folder) => JSON.stringify(folder)).join(', ')}`,
    );
  }
}

function within(folder: string, path: string): boolean {
  const rest = relative(folder, path);
  return rest !== '' && !rest.startsWith(`..${sep}`) && rest !== '..' && !isAbsolute(rest);
}

const codeOf = (error: unknown) => (error as { code?: string }).code ?? (error instanceof Error ? error.message : String(error));
