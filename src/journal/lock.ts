import { hostname } from 'node:os';
import { open, readFile, rename, stat, unlink } from 'node:fs/promises';

/** A lock held longer than this is left over from a process that died while holding it. */
export const STALE_LOCK_MS = 30_000;
const RETRY_MS = 10;
/** How long a writer waits for a lock that is held, before it reports the journal as unwritable. */
const WAIT_MS = 10_000;

/**
 * Runs `work` while holding `lockPath`, a file created with O_EXCL: another process (a desktop app and
 * a command-line client sharing one journal) waits for it. A lock whose holder is gone (same host, no
 * such process) or that is older than STALE_LOCK_MS is broken by renaming it away first, so that of
 * two processes breaking it at once only one succeeds.
 */
export async function withLock<T>(lockPath: string, work: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    try {
      const handle = await open(lockPath, 'wx', 0o600);
      try {
        await handle.writeFile(JSON.stringify({ pid: process.pid, host: hostname(), since: Date.now() }));
      } finally {
        await handle.close();
      }
      break;
    } catch (error) {
      if ((error as { code?: string }).code !== 'EEXIST') throw error;
      if (await breakIfStale(lockPath)) continue;
      if (Date.now() > deadline) throw new Error(`${lockPath} has been locked by another process for over ${WAIT_MS / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
  }
  try {
    return await work();
  } finally {
    await unlink(lockPath).catch(() => {});
  }
}

async function breakIfStale(lockPath: string): Promise<boolean> {
  let holder: { pid?: number; host?: string } = {};
  let age: number;
  try {
    age = Date.now() - (await stat(lockPath)).mtimeMs;
    holder = JSON.parse(await readFile(lockPath, 'utf8'));
  } catch {
    // Gone meanwhile, or written only half yet: look again next time round.
    return false;
  }
  const dead = holder.host === hostname() && typeof holder.pid === 'number' && !alive(holder.pid);
  if (!dead && age < STALE_LOCK_MS) return false;
  const away = `${lockPath}.${process.pid}.stale`;
  try {
    await rename(lockPath, away);
  } catch {
    return false;
  }
  await unlink(away).catch(() => {});
  return true;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM';
  }
}
