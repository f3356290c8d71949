import { createHash, randomUUID } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { recordUpload, type Queryable } from '../db/index.ts';

export interface UploadToStore {
  userId: string;
  conversationId: string;
  /** As the browser named it: kept in the row for the person, never used as a path. */
  fileName: string;
  /** The type the bytes show. */
  mimeType: string;
  /** Extension for that type, without a dot. */
  extension: string;
  bytes: Buffer;
  /** SHA-256 of the bytes (hex), when already known: hashing 25 MB here would hold up the event loop. */
  sha256?: string | undefined;
}

/**
 * Keeps an uploaded file: written under the uploads folder with a random name (the
 * user's file name never touches the file system), then recorded in the database.
 * If recording fails the file is removed, so nothing is left half-stored.
 * Returns the upload's id.
 */
export async function storeUpload(
  db: Queryable,
  uploadsDirectory: string,
  upload: UploadToStore,
): Promise<string> {
  await mkdir(uploadsDirectory, { recursive: true, mode: 0o700 });
  const relativePath = `${randomUUID()}.${upload.extension.replace(/[^a-z0-9]/gi, '') || 'bin'}`;
  const absolutePath = path.join(uploadsDirectory, relativePath);
  await writeFile(absolutePath, upload.bytes, { mode: 0o600, flag: 'wx' });
  try {
    return await recordUpload(db, {
      userId: upload.userId,
      conversationId: upload.conversationId,
      fileName: upload.fileName.slice(0, 255),
      mimeType: upload.mimeType,
      byteSize: upload.bytes.length,
      sha256: upload.sha256 ?? createHash('sha256').update(upload.bytes).digest('hex'),
      path: relativePath,
    });
  } catch (error) {
    await rm(absolutePath, { force: true });
    throw error;
  }
}
