import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Config } from '../../config/load.ts';
import { findRecordingUpload, findUserByIdentity, type Database } from '../../db/index.ts';
import { identityOf } from './api-guards.ts';
import { refuse } from './replies.ts';

export interface RecordingRouteOptions {
  config: Config;
  database: Database;
}

const paramsSchema = z.object({ documentId: z.string().uuid() });

/**
 * `GET /api/recordings/:documentId/media`: the recording a user uploaded, for the page to
 * play the moment a citation names. Registered inside the guarded `/api` plugin (access
 * key and identity checked); a user only ever gets their own upload, and anything else
 * (another user's, a shared document's, one that is not a recording) is the same 404.
 * @fastify/static serves the file, with HTTP Range requests (206) so the audio element
 * can seek straight to the cited moment.
 */
export async function registerRecordingRoute(
  app: FastifyInstance,
  options: RecordingRouteOptions,
): Promise<void> {
  const { config, database } = options;
  // Made now, not with the first upload, or a first start warns that the root is missing.
  await mkdir(config.database.uploadsDirectory, { recursive: true });
  // Only reply.sendFile from this plugin: nothing under the uploads folder is served by path.
  await app.register(fastifyStatic, { root: config.database.uploadsDirectory, serve: false });
  // The path recordingMediaPath() names, inside the /api prefix.
  app.get('/recordings/:documentId/media', async (request, reply) => {
    const params = paramsSchema.safeParse(request.params);
    const userId = params.success
      ? await findUserByIdentity(database.pool, { kind: 'web', value: identityOf(request) })
      : undefined;
    const recording =
      params.success && userId
        ? await findRecordingUpload(database.pool, userId, params.data.documentId)
        : undefined;
    if (!recording) return refuse(reply, 404, 'not_found', 'There is no such recording of yours.');
    reply.header('cache-control', 'private, no-cache');
    reply.type(recording.mimeType);
    return reply.sendFile(path.basename(recording.path), { contentType: false });
  });
}
