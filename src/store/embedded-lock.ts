/*
 * The embedded database (PGlite) is one process's: PGlite keeps the database in its own memory and
 * writes the folder back as it goes, with no lock of its own. A second process opening the same
 * folder (the CLI while the app runs) was not refused: one process's writes were lost, and the
 * folder then hung every later `addTenant`. So the folder gets a lock file naming its process; a
 * lock left by a process that is gone (killed, crashed) is taken over.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSetupError } from './database-errors.js';

/** The lock file's name inside the data folder. */
export const EMBEDDED_LOCK_FILE = 'shopify-ingest.lock';

// process.kill(pid, 0) sends nothing: it throws ESRCH when no such process exists (EPERM: it
// exists but belongs to another user).
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function holderOf(file: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/**
 * Takes the embedded database folder for this process, or throws `DATABASE_IN_USE` naming the
 * process that has it. Returns the release (idempotent). `memory://` databases need no lock.
 */
export function lockEmbeddedDatabase(dataDir: string, pid: number = process.pid): () => void {
  if (dataDir.startsWith('memory://')) return () => {};
  const file = path.join(dataDir, EMBEDDED_LOCK_FILE);
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      try { writeSync(fd, `${pid}\n`); } finally { closeSync(fd); }
      let released = false;
      return () => {
        if (released) return;
        released = true;
        // Only our own lock: a process that took it over after us keeps its own.
        if (holderOf(file) === pid) { try { unlinkSync(file); } catch { /* already gone */ } }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = holderOf(file);
    // The same process may open the folder again once it closed it; a lock of a process that is
    // gone is stale. A lock without a pid is one being written right now: looked at once more.
    if (holder !== null && holder !== pid && processAlive(holder)) {
      throw new DatabaseSetupError('DATABASE_IN_USE', `the embedded database in ${dataDir} is in use by process ${holder}: it is one process's at a time. Stop that process first, or use PostgreSQL (DATABASE_URL) to share the data between processes. If no such process runs, delete ${file}.`, { details: { dataDir, pid: holder } });
    }
    if (attempt >= 2) throw new DatabaseSetupError('DATABASE_IN_USE', `the embedded database in ${dataDir} is being opened by another process (${file})`, { details: { dataDir, pid: holder } });
    if (holder !== null || attempt > 0) { try { unlinkSync(file); } catch { /* taken by another process meanwhile */ } }
  }
}
