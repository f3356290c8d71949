import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { Database } from '../connection.ts';
import { compactErasedTables, splitByCompactionCost } from '../erase-compaction.ts';
import { IMMEDIATE_COMPACTION_BYTES, type DeferredCompaction } from '../deferred-compaction.ts';
import { transaction } from '../transaction.ts';

/** What an erasure removed. Holds no personal data: no user id, no identities, no names. */
export interface ErasureReceipt {
  id: string;
  erasedAt: Date;
  rowsDeleted: Record<string, number>;
  filesDeleted: number;
  /** Files that could not be removed (paths inside the uploads folder, named by upload id). */
  filesNotDeleted: string[];
  /** How long making the deleted rows unreadable from the database's files took (the part done now). */
  compactionMs: number;
  /** Tables whose compaction waits until no conversation is live (embedded database, large tables). */
  compactionDeferred: string[];
}

/** How an erasure compacts: all at once (default), or large tables later, when idle. */
export interface EraseOptions {
  /** Embedded database only: large tables are handed to it instead of compacted now. */
  deferred?: DeferredCompaction;
  /** Largest table compacted now when `deferred` is given (default {@link IMMEDIATE_COMPACTION_BYTES}). */
  immediateBytes?: number;
}

/**
 * Tables holding a user's rows, children first so every count is exact. Deleting the
 * user at the end also cascades to any table added later (every personal table
 * references users ON DELETE CASCADE; the erase test checks the whole catalog).
 */
const TABLES_BY_USER_COLUMN: readonly [table: string, column: string][] = [
  ['messages', 'user_id'],
  ['turns', 'user_id'],
  ['memories', 'user_id'],
  ['uploads', 'user_id'],
  ['chunks', 'owner_id'],
  ['documents', 'owner_id'],
  ['conversations', 'user_id'],
  ['account_link_codes', 'user_id'],
  ['voice_choices', 'user_id'],
  ['user_identities', 'user_id'],
  ['users', 'id'],
];

/**
 * Erases everything about a user: every row in every table and every uploaded file
 * on disk, in one transaction, and records a receipt; then compacts the tables that
 * lost rows so the database's files no longer hold them ({@link compactErasedTables}).
 * With `options.deferred` (the server, on the embedded database), tables too large to
 * rewrite without stalling live conversations are compacted once none is live.
 * Shared documents stay. Erasing an unknown user succeeds with zero counts.
 *
 * @param uploadsDirectory folder that upload paths are relative to.
 */
export async function eraseUser(
  database: Pick<Database, 'pool' | 'kind'>,
  userId: string,
  uploadsDirectory: string,
  options: EraseOptions = {},
): Promise<ErasureReceipt> {
  const { receipt, files } = await transaction(database.pool, async (client) => {
    const { rows: fileRows } = await client.query<{ path: string }>(
      `select path from uploads where user_id = $1 and storage = 'disk'`,
      [userId],
    );
    const rowsDeleted: Record<string, number> = {};
    for (const [table, column] of TABLES_BY_USER_COLUMN) {
      const result = await client.query(`delete from ${table} where ${column} = $1`, [userId]);
      rowsDeleted[table] = result.rowCount ?? 0;
    }
    const { rows } = await client.query<{ id: string; erased_at: Date }>(
      'insert into erasure_receipts (rows_deleted, files_deleted) values ($1, $2) returning id, erased_at',
      [JSON.stringify(rowsDeleted), fileRows.length],
    );
    const row = rows[0] as { id: string; erased_at: Date };
    return {
      receipt: {
        id: row.id,
        erasedAt: row.erased_at,
        rowsDeleted,
        filesDeleted: 0,
        filesNotDeleted: [] as string[],
        compactionMs: 0,
        compactionDeferred: [] as string[],
      },
      files: fileRows.map((file) => file.path),
    };
  });
  // Files go after the commit: a rolled-back erasure must not have lost them.
  const root = path.resolve(uploadsDirectory);
  for (const file of files) {
    const absolute = path.resolve(root, file);
    if (!absolute.startsWith(root + path.sep)) {
      receipt.filesNotDeleted.push(file);
      continue;
    }
    try {
      await rm(absolute, { force: true });
      receipt.filesDeleted++;
    } catch {
      receipt.filesNotDeleted.push(file);
    }
  }
  const touched = Object.entries(receipt.rowsDeleted)
    .filter(([, count]) => count > 0)
    .map(([table]) => table);
  const started = performance.now();
  const { now, later } =
    options.deferred && database.kind === 'embedded'
      ? await splitByCompactionCost(
          database.pool,
          touched,
          options.immediateBytes ?? IMMEDIATE_COMPACTION_BYTES,
        )
      : { now: touched, later: [] };
  await compactErasedTables(database.pool, database.kind, now);
  receipt.compactionMs = Math.round(performance.now() - started);
  if (later.length > 0) await options.deferred?.defer(later);
  receipt.compactionDeferred = later;
  return receipt;
}
