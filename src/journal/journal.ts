import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import * as z from 'zod';
import { Group } from '../sinch/schemas.js';
import { withLock } from './lock.js';

const DAY_MS = 24 * 60 * 60 * 1000;

export const Settings = Group.pick({ auto_update: true, child_groups: true });
export type Settings = z.infer<typeof Settings>;

/** One change to one group, as the journal keeps it. Numbers are personal data: the file is its owner's only. */
export const JournalEntry = z.object({
  id: z.string(),
  time: z.string(),
  /** The service plan or project id. */
  account: z.string(),
  tool: z.string(),
  /** What happened to the group, whichever tool did it: undo applies the inverse of this. */
  kind: z.enum(['create', 'update', 'replace', 'delete']),
  group_id: z.string(),
  group_name: z.string().optional(),
  added: z.array(z.string()),
  removed: z.array(z.string()),
  name_before: z.string().optional(),
  name_after: z.string().optional(),
  settings_before: Settings.optional(),
  settings_after: Settings.optional(),
  /** Every member before a replace or a delete, and before each group of a remove-everywhere. */
  members_before: z.array(z.string()).optional(),
  /** The group's modified_at right after the change; undo refuses if it differs now. */
  modified_at: z.string().optional(),
  /** The change this one undid. */
  undoes: z.string().optional(),
});
export type JournalEntry = z.infer<typeof JournalEntry>;

// node:crypto is loaded on first use, with the first change: loading it is a cost every start-up would pay.
const randomHex = (bytes: number) => process.getBuiltinModule('node:crypto').randomBytes(bytes).toString('hex');

/** Time-ordered and unique across processes sharing a journal. */
export const newChangeId = (now = Date.now()) => `chg_${now.toString(36)}${randomHex(5)}`;

/**
 * The change journal: JSON lines in one file that several servers may share. Every write, appends and
 * pruning alike, happens under one lock file, so entries never interleave and a prune (a rewrite) never
 * drops an entry appended meanwhile. Entries are appended with one appendFile each, whole.
 */
export class Journal {
  readonly #lock: string;
  #prunedAt: number | undefined;

  constructor(
    readonly path: string,
    readonly retentionDays = 30,
    private readonly clock: () => number = Date.now,
  ) {
    this.#lock = `${path}.lock`;
  }

  /** Appends the entries, whole, in one write; the first append of a process and then one a day also prune. */
  async append(entries: readonly JournalEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    const text = entries.map((entry) => `${JSON.stringify(entry)}\n`).join('');
    await withLock(this.#lock, async () => {
      const file = await open(this.path, 'a', 0o600);
      try {
        // Also for a file made by hand or by an older version: it holds phone numbers.
        await file.chmod(0o600);
        await file.appendFile(text);
      } finally {
        await file.close();
      }
    });
    const now = this.clock();
    if (this.#prunedAt === undefined || now - this.#prunedAt >= DAY_MS) {
      this.#prunedAt = now;
      await this.prune();
    }
  }

  /** Every entry, oldest first; a line that is not a whole entry is skipped. */
  async read(): Promise<JournalEntry[]> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as { code?: string }).code === 'ENOENT') return [];
      throw error;
    }
    return parseLines(text);
  }

  /** Drops entries older than the retention period, by rewriting the file under the lock. Returns how many went. */
  async prune(): Promise<number> {
    const cutoff = this.clock() - this.retentionDays * DAY_MS;
    return withLock(this.#lock, async () => {
      const lines = (await readFile(this.path, 'utf8').catch(() => '')).split('\n').filter((line) => line !== '');
      const kept = lines.filter((line) => {
        const time = Date.parse(JournalEntry.safeParse(safeJson(line)).data?.time ?? '');
        return Number.isNaN(time) || time >= cutoff;
      });
      if (kept.length === lines.length) return 0;
      const temporary = join(dirname(this.path), `.${basename(this.path)}.${randomHex(6)}.tmp`);
      const file = await open(temporary, 'wx', 0o600);
      try {
        await file.writeFile(kept.map((line) => `${line}\n`).join(''));
      } finally {
        await file.close();
      }
      await rename(temporary, this.path);
      return lines.length - kept.length;
    });
  }
}

function safeJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

function parseLines(text: string): JournalEntry[] {
  return text.split('\n').flatMap((line) => {
    const parsed = JournalEntry.safeParse(safeJson(line));
    return parsed.success ? [parsed.data] : [];
  });
}
