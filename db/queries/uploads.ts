import type { Queryable } from '../connection.ts';

export interface NewUpload {
  userId: string;
  conversationId?: string | null;
  documentId?: string | null;
  fileName: string;
  mimeType: string;
  byteSize: number;
  sha256: string;
  /** Kept on disk: a path relative to the uploads folder (erasure deletes the file)... */
  path?: string;
  /** ...or kept in the row. */
  data?: Buffer;
}

/** Records a file a user sent, stored either on disk or in the database. */
export async function recordUpload(db: Queryable, upload: NewUpload): Promise<string> {
  if ((upload.path === undefined) === (upload.data === undefined)) {
    throw new TypeError('recordUpload needs exactly one of path or data');
  }
  const { rows } = await db.query<{ id: string }>(
    `insert into uploads (user_id, conversation_id, document_id, file_name, mime_type, byte_size, sha256, storage, path, data)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) returning id`,
    [
      upload.userId,
      upload.conversationId ?? null,
      upload.documentId ?? null,
      upload.fileName,
      upload.mimeType,
      upload.byteSize,
      upload.sha256,
      upload.path !== undefined ? 'disk' : 'database',
      upload.path ?? null,
      upload.data ?? null,
    ],
  );
  return (rows[0] as { id: string }).id;
}

export async function attachUploadToDocument(
  db: Queryable,
  uploadId: string,
  documentId: string,
): Promise<void> {
  await db.query('update uploads set document_id = $2 where id = $1', [uploadId, documentId]);
}

/** Deletes an upload's row; returns its file's path (relative to the uploads folder), if it had one. */
export async function deleteUpload(db: Queryable, uploadId: string): Promise<string | null> {
  const { rows } = await db.query<{ path: string | null }>(
    'delete from uploads where id = $1 returning path',
    [uploadId],
  );
  return rows[0]?.path ?? null;
}

/** A recording the user uploaded, as kept on disk: what the page needs to play it. */
export interface StoredRecording {
  /** Relative to the uploads folder. */
  path: string;
  mimeType: string;
}

/**
 * The stored file of a recording document, only when `userId` uploaded it (a user never
 * gets another user's upload, nor a shared document's source). Undefined otherwise.
 */
export async function findRecordingUpload(
  db: Queryable,
  userId: string,
  documentId: string,
): Promise<StoredRecording | undefined> {
  const { rows } = await db.query<StoredRecording>(
    `select u.path, u.mime_type as "mimeType"
       from uploads u join documents d on d.id = u.document_id
      where u.document_id = $2 and u.user_id = $1 and d.owner_id = $1 and u.storage = 'disk'
        and d.duration_ms is not null
      order by u.created_at desc limit 1`,
    [userId, documentId],
  );
  return rows[0];
}
