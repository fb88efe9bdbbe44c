import { link, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { FileRefusal } from './folders.js';

export interface Written {
  bytes: number;
  sha256: string;
}

/**
 * Writes a whole file or nothing: into a temporary file beside it, then moved into place, so no reader
 * ever sees half of it. Without `overwrite` an existing file is left alone, checked in the same step
 * as the move (a hard link fails if the name is taken). The file is for its owner only: it holds phone numbers.
 */
export async function writeAtomically(path: string, content: string, overwrite: boolean, field: string): Promise<Written> {
  // node:crypto is loaded on first use: loading it is a cost every start-up would pay, and few export.
  const { createHash, randomBytes } = process.getBuiltinModule('node:crypto');
  const data = Buffer.from(content, 'utf8');
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const file = await open(temporary, 'wx', 0o600);
  try {
    await file.writeFile(data);
    await file.sync();
  } finally {
    await file.close();
  }
  try {
    if (overwrite) await rename(temporary, path);
    else {
      try {
        await link(temporary, path);
      } catch (error) {
        if ((error as { code?: string }).code === 'EEXIST') {
          throw new FileRefusal(`${field}: ${JSON.stringify(path)} exists already; pass overwrite: true to replace it`);
        }
        throw error;
      }
    }
  } finally {
    await unlink(temporary).catch(() => {});
  }
  return { bytes: data.length, sha256: createHash('sha256').update(data).digest('hex') };
}
