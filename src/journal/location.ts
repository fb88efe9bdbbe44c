import { homedir } from 'node:os';
import { join } from 'node:path';

/** The platform's folder for state a program keeps between runs, where the journal lives by default. */
export function defaultJournalPath(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  const home = env.HOME?.trim() || homedir();
  const state =
    platform === 'win32'
      ? env.LOCALAPPDATA?.trim() || join(home, 'AppData', 'Local')
      : platform === 'darwin'
        ? join(home, 'Library', 'Application Support')
        : env.XDG_STATE_HOME?.trim() || join(home, '.local', 'state');
  return join(state, 'sinch-groups-mcp', 'journal.jsonl');
}
