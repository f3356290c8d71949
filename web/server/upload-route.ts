import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Config } from '../../config/load.ts';
import { findUserByIdentity, type Database } from '../../db/index.ts';
import { cleanFileName, describeBytes, MediaError, type MediaErrorCode } from '../../media/index.ts';
import { AppError, type UploadResponse } from '../../protocol/index.ts';
import { identityOf } from './api-guards.ts';
import type { ConversationRegistry } from './conversation-registry.ts';
import { refuse } from './replies.ts';

/** Room for multipart boundaries and part headers on top of the file itself, in bytes. */
const MULTIPART_OVERHEAD_BYTES = 64 * 1024;

const STATUS_BY_MEDIA_ERROR: Record<MediaErrorCode, number> = {
  empty: 422,
  'too-large': 413,
  'unsupported-type': 415,
  'type-mismatch': 415,
  corrupt: 422,
  'too-many-pixels': 422,
  'too-many-pages': 422,
  encrypted: 422,
  'too-long': 422,
};

export interface UploadRouteOptions {
  config: Config;
  database: Database;
  registry: ConversationRegistry;
  logger?: Logger;
}

const querySchema = z.object({ session: z.uuid() });

/**
 * `POST /uploads?session=<id>` inside the guarded `/api` plugin (direct mode), one multipart file. Refused with 413
 * as soon as the declared length or the bytes streamed in pass UPLOAD_MAX_BYTES, never
 * after buffering it all. The type is decided from the bytes. Images join the live
 * conversation at once; documents are read in the background, with progress over the
 * socket. Files are stored under random names and recorded for erasure.
 */
export function registerUploadRoute(app: FastifyInstance, options: UploadRouteOptions): void {
  const { config, database, registry } = options;
  const maxBytes = config.limits.uploadMaxBytes;
  const tooLarge = (reply: FastifyReply) => {
    // Closing the connection stops the rest of the body from being read at all.
    reply.header('connection', 'close');
    reply.raw.once('finish', () => reply.request.raw.destroy());
    return refuse(reply, 413, 'too_large', `This file is larger than the ${describeBytes(maxBytes)} limit.`);
  };

  app.post(
    '/uploads',
    {
      config: { rateLimit: { max: 30, timeWindow: '1 minute' } },
      onRequest: async (request, reply) => {
        const declared = Number(request.headers['content-length']);
        if (Number.isFinite(declared) && declared > maxBytes + MULTIPART_OVERHEAD_BYTES)
          return tooLarge(reply);
      },
    },
    async (request, reply) => {
      const query = querySchema.safeParse(request.query);
      if (!query.success)
        return refuse(reply, 400, 'bad_request', 'The upload must name its session (?session=).');
      // Looked up, not created: a browser that never talked owns no conversation.
      const userId = await findUserByIdentity(database.pool, { kind: 'web', value: identityOf(request) });
      const entry = userId ? registry.find(query.data.session, userId) : undefined;
      if (!entry) {
        return refuse(
          reply,
          409,
          'not_connected',
          'Connect to the assistant first: files go into a live conversation.',
        );
      }

      let file;
      try {
        file = await request.file({ limits: { fileSize: maxBytes, files: 1, fields: 4, fieldSize: 1024 } });
      } catch (error) {
        if ((error as { statusCode?: number }).statusCode === 413) return tooLarge(reply);
        return refuse(reply, 400, 'bad_request', 'Send the file as multipart/form-data.');
      }
      if (!file) return refuse(reply, 400, 'bad_request', 'No file was sent.');
      let bytes: Buffer;
      try {
        bytes = await readWithinLimit(file.file);
      } catch (error) {
        if (error instanceof UploadTooLarge) return tooLarge(reply);
        throw error;
      }

      try {
        const receipt = await entry.conversation.receiveFile({
          bytes,
          fileName: cleanFileName(file.filename),
          claimedType: file.mimetype,
        });
        const body: UploadResponse = receipt;
        return reply.code(receipt.status === 'reading' ? 202 : 200).send(body);
      } catch (error) {
        if (error instanceof MediaError)
          return refuse(reply, STATUS_BY_MEDIA_ERROR[error.code], error.code, error.message);
        // Refused for a reason the person can act on (no transcription service for a recording, a conversation that ended).
        if (error instanceof AppError && error.userFacing)
          return refuse(reply, 422, error.code, error.message);
        throw error;
      }
    },
  );
}

class UploadTooLarge extends Error {}

/**
 * Collects a file part, failing the moment it passes the limit: busboy stops keeping
 * bytes at the limit but would go on reading (and discarding) the rest of the body.
 */
function readWithinLimit(stream: Readable & { truncated?: boolean }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.once('limit', () => {
      stream.removeAllListeners('data');
      reject(new UploadTooLarge());
    });
    stream.once('error', reject);
    stream.once('end', () =>
      stream.truncated ? reject(new UploadTooLarge()) : resolve(Buffer.concat(chunks)),
    );
  });
}
