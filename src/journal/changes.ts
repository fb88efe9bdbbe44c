import type { Group } from '../sinch/schemas.js';
import { newChangeId, type Journal, type JournalEntry } from './journal.js';

/** Who asked for a change, when an authenticated caller is known (HTTP mode behind an authorization server). */
export interface Caller {
  /** The issuer of the caller's token: `sub` is unique only within it. */
  iss?: string;
  sub?: string;
  client_id?: string;
}

/** A change that reached Sinch, as a tool reports it once it is applied. */
export interface AppliedChange {
  tool: string;
  kind: JournalEntry['kind'];
  groupId: string;
  /** The group before the change (update, replace, delete). */
  before?: Group;
  /** The group after it (create, update, replace). */
  after?: Group;
  /** Members before and after, read around the change when the journal is on. */
  membersBefore?: readonly string[];
  membersAfter?: readonly string[];
  /** Counts for the audit line when the members were not read (journal off), if known. */
  counts?: { added: number; removed: number };
  /** The change this one undid (undo_change). */
  undoes?: string;
  /** Keep every member before, as replace and delete do; remove_numbers_everywhere does for each group. */
  keepMembersBefore?: boolean;
}

/** The change was applied, but its journal entry could not be written. */
export class ChangeNotRecordedError extends Error {
  override readonly name = 'ChangeNotRecordedError';
}

/**
 * Where applied changes go: one audit line each on stderr, always, and the journal when it is on.
 * Every tool that changes groups calls record() once the change is applied, before it answers.
 */
export class ChangeLog {
  constructor(
    readonly account: string,
    readonly journal?: Journal,
    private readonly audit: (line: string) => void = (line) => void process.stderr.write(`${line}\n`),
  ) {}

  /** Whether members must be read before and after a change, for the journal. */
  get recording(): boolean {
    return this.journal !== undefined;
  }

  /**
   * Records changes applied together (a remove-everywhere changes several groups) in one journal write,
   * and returns their change ids (none with the journal off). Throws ChangeNotRecordedError when the
   * journal cannot be written; the audit lines are written either way.
   */
  async record(changes: readonly AppliedChange[], caller?: Caller): Promise<string[]> {
    const now = Date.now();
    const entries = changes.map((change) => this.#entry(change, now));
    let failure: unknown;
    if (this.journal) {
      try {
        await this.journal.append(entries);
      } catch (error) {
        failure = error;
      }
    }
    const outcome = failure === undefined ? 'applied' : 'applied, not journaled';
    for (const [index, change] of changes.entries()) {
      const entry = entries[index]!;
      const counts = this.journal ? { added: entry.added.length, removed: entry.removed.length } : change.counts;
      this.audit(
        JSON.stringify({
          ts: new Date(now).toISOString(),
          event: 'change',
          tool: change.tool,
          account: this.account,
          group_id: change.groupId,
          ...counts,
          outcome,
          ...(this.journal && failure === undefined ? { change_id: entry.id } : {}),
          ...caller,
        }),
      );
    }
    if (failure !== undefined) {
      throw new ChangeNotRecordedError(
        `it could not be written to the change journal ${this.journal!.path} (${failure instanceof Error ? failure.message : String(failure)}), so undo_change and list_changes will not know of it`,
      );
    }
    return this.journal ? entries.map((entry) => entry.id) : [];
  }

  /** A change that stopped part-way or failed after some requests: audited, not journaled. */
  auditPartial(tool: string, groupId: string, caller?: Caller): void {
    this.audit(JSON.stringify({ ts: new Date().toISOString(), event: 'change', tool, account: this.account, group_id: groupId, outcome: 'partly applied', ...caller }));
  }

  #entry({ tool, kind, groupId, before, after, membersBefore, membersAfter, undoes, keepMembersBefore }: AppliedChange, now: number): JournalEntry {
    const was = new Set(membersBefore ?? []);
    const is = new Set(membersAfter ?? []);
    return {
      id: newChangeId(now),
      time: new Date(now).toISOString(),
      account: this.account,
      tool,
      kind,
      group_id: groupId,
      ...optional('group_name', (after ?? before)?.name),
      added: [...is].filter((number) => !was.has(number)),
      removed: [...was].filter((number) => !is.has(number)),
      ...optional('name_before', before?.name),
      ...optional('name_after', after?.name),
      ...(before ? { settings_before: settingsOf(before) } : {}),
      ...(after ? { settings_after: settingsOf(after) } : {}),
      ...(keepMembersBefore || kind === 'replace' || kind === 'delete' ? { members_before: [...was] } : {}),
      ...optional('modified_at', after?.modified_at),
      ...optional('undoes', undoes),
    };
  }
}

const settingsOf = ({ auto_update, child_groups }: Group) => ({
  ...(auto_update ? { auto_update } : {}),
  ...(child_groups ? { child_groups } : {}),
});

const optional = <K extends string>(key: K, value: string | undefined) => (value === undefined ? {} : ({ [key]: value } as Record<K, string>));
