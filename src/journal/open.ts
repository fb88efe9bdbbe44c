import type { JournalSettings } from '../config.js';
import { log } from '../log.js';
import { Journal } from './journal.js';

/** The journal the settings name, said on stderr; nothing is read or written until a change is made. */
export function openJournal({ path, retentionDays }: JournalSettings): Journal | undefined {
  if (path === undefined) {
    log('change journal off: list_changes and undo_change are not offered');
    return undefined;
  }
  log(`change journal: ${path} (entries kept ${retentionDays} days)`);
  return new Journal(path, retentionDays);
}
