import { existsSync } from 'node:fs';
import fastifyCookie from '@fastify/cookie';
import fastifyMultipart from '@fastify/multipart';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import fastifyWebsocket from '@fastify/websocket';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../../config/load.ts';
import { resolveUser, type Database } from '../../db/index.ts';
import { SOCKET_PATH } from '../../protocol/index.ts';
import { browserIdOf, ensureBrowserId, hasAccess, isSameOrigin } from './access.ts';
import { registerApiRoutes } from './api-routes.ts';
import type { StartConversation } from './conversation.ts';
import { ConversationRegistry } from './conversation-registry.ts';
import { serveDirectSocket } from './direct-socket.ts';
import { refuse } from './replies.ts';
import { registerUploadRoute } from './upload-route.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The browser's identity from its signed cookie (set on every /api request). */
    browserId: string;
  }
}

/** Largest WebSocket message accepted, in bytes: a camera frame in base64 with room to spare. */
const MAX_SOCKET_MESSAGE_BYTES = 1024 * 1024;

export interface WebServerOptions {
  config: Config;
  database: Database;
  /** Signs the identity and access cookies (see loadCookieSecret). */
  cookieSecret: Buffer;
  /** What keeps the assistant from answering; empty when usable. */
  problems: readonly string[];
  /** Starts direct-mode conversations; unused in LiveKit mode. */
  startConversation: StartConversation;
  /** The built client (web/client/dist); without it `/` explains how to build it. */
  clientDirectory?: string;
  logger?: Logger;
  /** Behind a reverse proxy: trust X-Forwarded-* (client IPs for rate limits, https for cookies). */
  trustProxy?: boolean;
  /** How long a new socket may wait before its hello, in ms (default HELLO_TIMEOUT_MS). */
  helloTimeoutMs?: number;
}

export interface WebServer {
  app: FastifyInstance;
  registry: ConversationRegistry;
  /** Ends every live conversation, then stops listening. */
  close(): Promise<void>;
}

/**
 * The web server: the built page, `POST /api/session` (direct mode, or a LiveKit token),
 * `POST /api/uploads`, `POST /api/erase`, `POST /api/access`, `GET /healthz` and the
 * direct-mode WebSocket. With `APP_ACCESS_KEY` set, every /api route and the socket
 * refuse requests without it; the page and /healthz stay reachable.
 */
export async function createWebServer(options: WebServerOptions): Promise<WebServer> {
  const { config, database, logger } = options;
  const registry = new ConversationRegistry();
  const app = Fastify({
    ...(logger ? { loggerInstance: logger as FastifyBaseLogger } : { logger: false }),
    // Requests are not logged one by one; failures are (see the error handler).
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: options.trustProxy ?? false,
    bodyLimit: 64 * 1024,
  });

  await app.register(fastifyCookie, { secret: options.cookieSecret.toString('hex') });
  await app.register(fastifyRateLimit, {
    global: false,
    errorResponseBuilder: (_request, context) => ({
      statusCode: context.statusCode,
      error: 'rate_limited',
      message: `Too many requests. Please wait ${context.after} and try again.`,
    }),
  });
  await app.register(fastifyMultipart);
  await app.register(fastifyWebsocket, { options: { maxPayload: MAX_SOCKET_MESSAGE_BYTES } });
  app.decorateRequest('browserId', '');

  app.addHook('onSend', async (_request, reply) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'same-origin');
    reply.header('x-frame-options', 'DENY');
  });

  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    if (!path.startsWith('/api/') || path === '/api/access') return;
    if (!hasAccess(request, config.server.accessKey)) {
      return refuse(
        reply,
        401,
        'access_key_required',
        'This assistant needs its access key. Enter it to continue.',
      );
    }
    if (path === SOCKET_PATH) {
      // An upgrade cannot set cookies: the page gets its identity from /api/session first.
      const browserId = browserIdOf(request);
      if (!browserId) return refuse(reply, 401, 'no_identity', 'Reload the page, then connect again.');
      if (!isSameOrigin(request))
        return refuse(reply, 403, 'wrong_origin', 'Connect from the assistant page itself.');
      request.browserId = browserId;
      return;
    }
    request.browserId = ensureBrowserId(request, reply);
  });

  app.setErrorHandler((error: { statusCode?: number; error?: string; message?: string }, request, reply) => {
    const status = error.statusCode ?? 500;
    if (status >= 500) {
      request.log.error({ err: error }, 'request failed');
      return refuse(reply, 500, 'server_error', 'Something went wrong on the server. Please try again.');
    }
    return refuse(
      reply,
      status,
      error.error ?? 'bad_request',
      error.message ?? 'The request could not be understood.',
    );
  });

  registerApiRoutes(app, { config, database, registry, problems: options.problems });
  registerUploadRoute(app, {
    config,
    database,
    registry,
    ...(logger ? { logger } : {}),
  });

  app.get(
    SOCKET_PATH,
    { websocket: true, config: { rateLimit: { max: 30, timeWindow: '1 minute' } } },
    (socket, request) => {
      if (options.problems.length > 0 || config.livekit) {
        socket.close(
          1011,
          options.problems.length > 0 ? 'the assistant is not set up' : 'this server uses LiveKit',
        );
        return;
      }
      serveDirectSocket({
        socket,
        resolveUserId: () => resolveUser(database.pool, { kind: 'web', value: request.browserId }),
        startConversation: options.startConversation,
        registry,
        ...(logger ? { logger } : {}),
        ...(options.helloTimeoutMs ? { helloTimeoutMs: options.helloTimeoutMs } : {}),
      });
    },
  );

  if (options.clientDirectory && existsSync(options.clientDirectory)) {
    await app.register(fastifyStatic, {
      root: options.clientDirectory,
      setHeaders: (reply, filePath) => {
        // Vite puts a content hash in asset names; the page itself must be revalidated.
        reply.header(
          'cache-control',
          filePath.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
        );
      },
    });
  } else {
    app.get('/', async (_request, reply) =>
      reply.type('text/plain').send('The page is not built. Run `npm start`, which builds it.'),
    );
  }

  return {
    app,
    registry,
    async close() {
      await Promise.all(registry.all().map((entry) => entry.disconnect(1001, 'the server is shutting down')));
      await app.close();
    },
  };
}
