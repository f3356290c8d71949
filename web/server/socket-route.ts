import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../../config/load.ts';
import { resolveUser, type Database } from '../../db/index.ts';
import { CloseCode, type ServerMessage } from '../../protocol/index.ts';
import { identityOf } from './api-guards.ts';
import type { StartConversation } from './conversation.ts';
import type { ConversationRegistry } from './conversation-registry.ts';
import { serveDirectSocket } from './direct-socket.ts';
import { addressKey } from './key-guess-limiter.ts';

/**
 * Direct sockets one client address may hold open at once: each runs a conversation (voice
 * models, a database connection's share), and identities cost nothing to mint. Generous for
 * several people behind one NAT address; behind a reverse proxy it needs TRUST_PROXY.
 */
export const MAX_SOCKETS_PER_ADDRESS = 20;

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
  const openSockets = new Map<string, number>();
  app.get(
    '/socket',
    { websocket: true, config: { rateLimit: { max: 30, timeWindow: '1 minute' } } },
    (socket, request) => {
      if (problems.length > 0 || config.livekit) {
        socket.close(1011, problems.length > 0 ? 'the assistant is not set up' : 'this server uses LiveKit');
        return;
      }
      const browserId = identityOf(request);
      // Checked after the upgrade: a page cannot read a refused handshake's status, but it can read this.
      const address = addressKey(request.ip);
      const open = openSockets.get(address) ?? 0;
      if (open >= MAX_SOCKETS_PER_ADDRESS) {
        const refusal: ServerMessage = {
          type: 'error',
          message: 'Too many conversations are open from this address. Close one, then connect again.',
        };
        socket.send(JSON.stringify(refusal));
        socket.close(CloseCode.overBudget, 'too many connections from this address');
        return;
      }
      openSockets.set(address, open + 1);
      socket.once('close', () => {
        const left = (openSockets.get(address) ?? 1) - 1;
        if (left > 0) openSockets.set(address, left);
        else openSockets.delete(address);
      });
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
