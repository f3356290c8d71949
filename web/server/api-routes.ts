import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Config } from '../../config/load.ts';
import {
  createLinkCode,
  eraseUser,
  findUserByIdentity,
  pingDatabase,
  resolveUser,
  type Database,
  type DeferredCompaction,
} from '../../db/index.ts';
import { metrics } from '../../telemetry/metrics.ts';
import {
  CloseCode,
  LIVEKIT_EVENTS_TOPIC,
  LIVEKIT_UPLOAD_TOPIC,
  PROTOCOL_VERSION,
  SOCKET_PATH,
  type EraseResponse,
  type SessionResponse,
  type PhoneLinkResponse,
} from '../../protocol/index.ts';
import { grantAccess, issueBrowserId } from './access.ts';
import { checkKey, identityOf, refuseGuessing, type AccessGuardOptions } from './api-guards.ts';
import type { ConversationRegistry } from './conversation-registry.ts';
import { createRoomToken } from './livekit-token.ts';
import { refuse } from './replies.ts';

/** A user id no one has: erasing a browser that never talked removes nothing and still gives a receipt. */
const NOBODY = '00000000-0000-0000-0000-000000000000';

export interface ApiRouteOptions {
  config: Config;
  database: Database;
  registry: ConversationRegistry;
  /** What keeps the assistant from answering (no model provider configured); empty when usable. */
  problems: readonly string[];
  /** Embedded database: large tables' compaction after an erasure waits until no conversation is live. */
  deferredCompaction?: DeferredCompaction | undefined;
}

const accessSchema = z.object({ key: z.string().min(1).max(1000) });
const eraseSchema = z.object({ confirm: z.literal(true) });

/**
 * `POST /session`, `/erase` and `/phone-link`, registered inside the guarded `/api`
 * plugin (access key and identity already checked: see api-guards.ts).
 */
export function registerApiRoutes(app: FastifyInstance, options: ApiRouteOptions): void {
  const { config, database, registry, problems, deferredCompaction } = options;

  app.post(
    '/session',
    { config: { rateLimit: { max: 30, timeWindow: '1 minute' } } },
    async (request, reply) => {
      // Tokens must never be cached by a browser or a proxy.
      reply.header('cache-control', 'no-store');
      let body: SessionResponse;
      if (problems.length > 0) {
        body = { mode: 'setup_needed', problems: [...problems] };
      } else if (config.livekit) {
        const room = await createRoomToken({
          apiKey: config.livekit.apiKey,
          apiSecret: config.livekit.apiSecret,
          agentName: config.agentName,
          browserId: identityOf(request),
        });
        body = {
          mode: 'livekit',
          serverUrl: config.livekit.publicUrl,
          token: room.token,
          roomName: room.roomName,
          expiresAt: room.expiresAt.toISOString(),
          uploadTopic: LIVEKIT_UPLOAD_TOPIC,
          eventsTopic: LIVEKIT_EVENTS_TOPIC,
          uploadMaxBytes: config.limits.uploadMaxBytes,
        };
      } else {
        body = {
          mode: 'direct',
          socketPath: SOCKET_PATH,
          protocol: PROTOCOL_VERSION,
          uploadMaxBytes: config.limits.uploadMaxBytes,
        };
      }
      return reply.send(body);
    },
  );

  app.post(
    '/erase',
    { config: { rateLimit: { max: 5, timeWindow: '1 minute' } } },
    async (request, reply) => {
      if (!eraseSchema.safeParse(request.body).success) {
        return refuse(reply, 400, 'confirmation_required', 'Erasing needs {"confirm": true}.');
      }
      const userId = await findUserByIdentity(database.pool, { kind: 'web', value: identityOf(request) });
      if (userId) {
        // End live conversations first, so nothing is written after the erasure.
        await Promise.all(
          registry
            .ofUser(userId)
            .map((entry) => entry.disconnect(CloseCode.goingAway, 'erased at your request')),
        );
      }
      const receipt = await eraseUser(
        database,
        userId ?? NOBODY,
        config.database.uploadsDirectory,
        deferredCompaction ? { deferred: deferredCompaction } : {},
      );
      // A fresh identity: this browser is a stranger from now on.
      issueBrowserId(request, reply);
      const body: EraseResponse = {
        receiptId: receipt.id,
        erasedAt: receipt.erasedAt.toISOString(),
        rowsDeleted: receipt.rowsDeleted,
        filesDeleted: receipt.filesDeleted,
      };
      return reply.send(body);
    },
  );

  app.post(
    '/phone-link',
    { config: { rateLimit: { max: 5, timeWindow: '1 minute' } } },
    async (request, reply) => {
      const userId = await resolveUser(database.pool, { kind: 'web', value: identityOf(request) });
      const { code, expiresAt } = await createLinkCode(database.pool, userId);
      const body: PhoneLinkResponse = { code, expiresAt: expiresAt.toISOString() };
      return reply.send(body);
    },
  );
}

/**
 * `POST /access {"key": "..."}` inside the `/api` plugin but outside its key guard: the
 * page sends the key here once and gets the signed access cookie. Wrong keys count
 * against the sender's address like wrong `Authorization` headers do.
 */
export function registerAccessRoute(
  app: FastifyInstance,
  options: { config: Config; guard: AccessGuardOptions },
): void {
  const { guard } = options;
  app.post(
    '/access',
    { config: { rateLimit: { max: 10, timeWindow: '1 minute' } } },
    async (request, reply) => {
      const parsed = accessSchema.safeParse(request.body);
      if (!parsed.success) return refuse(reply, 400, 'bad_request', 'Send the access key as {"key": "..."}.');
      const check = checkKey(guard, request.ip, parsed.data.key);
      if (check.outcome === 'wait') return refuseGuessing(reply, check.waitMs);
      if (check.outcome === 'wrong')
        return refuse(reply, 401, 'wrong_access_key', 'That access key is not right.');
      grantAccess(request, reply);
      return reply.code(204).send();
    },
  );
}

/**
 * `GET /metrics` (Prometheus text format), registered behind the access-key guard: with
 * APP_ACCESS_KEY set a scraper sends `Authorization: Bearer <key>`. No identity: a
 * scraper has no browser.
 */
export function registerMetricsRoute(app: FastifyInstance): void {
  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', metrics().contentType);
    return reply.send(await metrics().render());
  });
}

/** `GET /healthz`: open to everyone, says nothing about anyone. */
export function registerHealthRoute(
  app: FastifyInstance,
  options: Pick<ApiRouteOptions, 'config' | 'database' | 'registry' | 'problems'>,
): void {
  const { config, database, registry, problems } = options;
  app.get('/healthz', async (_request, reply) => {
    try {
      await pingDatabase(database.pool);
    } catch {
      return reply.code(503).send({ status: 'database unavailable' });
    }
    return reply.send({
      status: 'ok',
      mode: problems.length > 0 ? 'setup_needed' : config.livekit ? 'livekit' : 'direct',
      conversations: registry.size,
    });
  });
}
