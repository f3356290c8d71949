import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { DatabaseSetupError } from './errors.ts';

/** Held while a process has the embedded database open; released by {@link EmbeddedLock.release}. */
export interface EmbeddedLock {
  readonly file: string;
  release(): void;
}

interface LockOwner {
  pid: number;
  host: string;
  startedAt: string;
}

/**
 * Takes an exclusive lock on an embedded database folder. PGlite keeps no lock of
 * its own, and two processes writing one data directory corrupt it, so the second
 * process gets a clear error instead. A lock left by a process that died is taken over.
 */
export function acquireEmbeddedLock(directory: string): EmbeddedLock {
  mkdirSync(directory, { recursive: true });
  const file = path.join(directory, 'pglite.lock');
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const descriptor = openSync(file, 'wx');
      const owner: LockOwner = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
      writeSync(descriptor, JSON.stringify(owner));
      closeSync(descriptor);
      const onExit = () => removeIfOurs(file);
      process.once('exit', onExit);
      return {
        file,
        release() {
          process.removeListener('exit', onExit);
          removeIfOurs(file);
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = readOwner(file);
      if (owner && isAlive(owner)) {
        throw new DatabaseSetupError(
          `The embedded database in ${directory} is in use by another process (pid ${owner.pid} on ${owner.host}, ` +
            `since ${owner.startedAt}). Only one process can open it at a time: stop the other one, ` +
            `set DATA_DIR to another folder, or set DATABASE_URL to share a Postgres server.`,
        );
      }
      // The owner is gone (crash, kill -9): the lock is stale.
      rmSync(file, { force: true });
    }
  }
  throw new DatabaseSetupError(
    `Could not lock the embedded database in ${directory}; another process keeps taking it.`,
  );
}

function readOwner(file: string): LockOwner | undefined {
  try {
    const owner = JSON.parse(readFileSync(file, 'utf8')) as Partial<LockOwner>;
    if (typeof owner.pid === 'number' && typeof owner.host === 'string') return owner as LockOwner;
  } catch {
    // Half-written or unreadable: treat as stale.
  }
  return undefined;
}

function isAlive(owner: LockOwner): boolean {
  // A lock written on another machine (a shared folder) cannot be checked: assume it is held.
  if (owner.host !== hostname()) return true;
  if (owner.pid === process.pid) return true;
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function removeIfOurs(file: string): void {
  const owner = readOwner(file);
  if (owner?.pid === process.pid && owner.host === hostname()) rmSync(file, { force: true });
}
