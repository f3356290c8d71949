import type { Queryable } from '../connection.ts';

/** What {@link sweepOrphans} removed, and the upload files that rows still point at. */
export interface SweptOrphans {
  /** Paths (relative to the uploads folder) of the upload rows deleted: their files go too. */
  readonly removedUploadPaths: string[];
  readonly removedUploads: number;
  readonly endedConversations: number;
  /** Paths of every upload file a row still needs; any other file in the folder is an orphan. */
  readonly keptUploadPaths: Set<string>;
}

/**
 * Clears what a process killed mid-work (`kill -9`, a power cut) leaves behind, for
 * rows older than `startedAt` (this process's start): document uploads whose reading
 * never finished (no document; images keep their rows, they are the conversation's),
 * and conversations never ended. Only for a database one process owns: with several
 * processes, another one's live conversation would look abandoned.
 */
export async function sweepOrphans(db: Queryable, startedAt: Date): Promise<SweptOrphans> {
  const uploads = await db.query<{ path: string | null }>(
    `delete from uploads where document_id is null and mime_type not like 'image/%' and created_at < $1
     returning path`,
    [startedAt],
  );
  const conversations = await db.query(
    'update conversations set ended_at = now() where ended_at is null and started_at < $1',
    [startedAt],
  );
  const kept = await db.query<{ path: string }>("select path from uploads where storage = 'disk'");
  return {
    removedUploadPaths: uploads.rows.flatMap((row) => (row.path === null ? [] : [row.path])),
    removedUploads: uploads.rowCount ?? 0,
    endedConversations: conversations.rowCount ?? 0,
    keptUploadPaths: new Set(kept.rows.map((row) => row.path)),
  };
}
