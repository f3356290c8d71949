import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { DeferredCompaction, pendingCompactionFile, sweepOrphans, type Database } from '../db/index.ts';

/** What the sweep at start cleared, for the log. */
export interface StartupSweep {
  readonly removedUploads: number;
  readonly endedConversations: number;
  readonly removedFiles: number;
  /** Tables an earlier process left waiting for their compaction after an erasure, compacted now. */
  readonly compactedTables: readonly string[];
}

/**
 * At start, in one place: removes what an earlier process killed mid-work left
 * behind (db/queries/orphans.ts), then every file in the uploads folder that no
 * upload row points at (a file written just before its row), and finishes the
 * compaction of erased rows that an earlier process left waiting for an idle moment
 * (db/deferred-compaction.ts; nothing is live yet). `startedAt` is this process's start:
 * nothing newer is touched.
 */
export async function sweepAfterCrash(
  database: Database,
  uploadsDirectory: string,
  startedAt: Date,
  dataDir = path.dirname(uploadsDirectory),
): Promise<StartupSweep> {
  const swept = await sweepOrphans(database.pool, startedAt);
  const files = await readdir(uploadsDirectory).catch(() => []);
  const orphans = files.filter((file) => !swept.keptUploadPaths.has(file));
  await Promise.all(orphans.map((file) => rm(path.join(uploadsDirectory, file), { force: true })));
  const compactedTables = await new DeferredCompaction(
    database.pool,
    pendingCompactionFile(dataDir),
    () => true,
  ).runPending();
  return {
    compactedTables,
    removedUploads: swept.removedUploads,
    endedConversations: swept.endedConversations,
    removedFiles: orphans.length,
  };
}
