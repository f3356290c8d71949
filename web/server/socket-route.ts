import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../../config/load.ts';
import { resolveUser, type Database } from '../../db/index.ts';
import { identityOf } from './api-guards.ts';
import type { StartConversation } from './conversation.ts';
import type { ConversationRegistry } from './conversation-registry.ts';
import { serveDirectSocket } from './direct-socket.ts';

export interface SocketRouteOptions {
  config: Config;
  database: Database;
  registry: ConversationRegistry;
  /** What keeps the assistant from answering; empty when usable. */
  problems: readonly string[];
  startConversation: StartConversation;
  logger?: Logger;
  helloTimeoutMs?: number;
}

/**
 * The direct-mode WebSocket, `GET /socket` inside the guarded `/api` plugin (so
 * `SOCKET_PATH`, `/api/socket`). Its guards (access key, Origin, identity) run before
 * the upgrade.
 */
export function registerSocketRoute(app: FastifyInstance, options: SocketRouteOptions): void {
  const { config, database, problems, logger } = options;
  app.get(
    '/socket',
    { websocket: true, config: { rateLimit: { max: 30, timeWindow: '1 minute' } } },
    (socket, request) => {
      if (problems.length > 0 || config.livekit) {
        socket.close(1011, problems.length > 0 ? 'the assistant is not set up' : 'this server uses LiveKit');
        return;
      }
      const browserId = identityOf(request);
      serveDirectSocket({
        socket,
        resolveUserId: () => resolveUser(database.pool, { kind: 'web', value: browserId }),
        startConversation: options.startConversation,
        registry: options.registry,
        ...(logger ? { logger } : {}),
        ...(options.helloTimeoutMs ? { helloTimeoutMs: options.helloTimeoutMs } : {}),
      });
    },
  );
}
