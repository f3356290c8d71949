import { existsSync } from 'node:fs';
import fastifyCookie from '@fastify/cookie';
import fastifyMultipart from '@fastify/multipart';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import fastifyWebsocket from '@fastify/websocket';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../../config/load.ts';
import { DeferredCompaction, pendingCompactionFile, type Database } from '../../db/index.ts';
import { accessKeyGuard, identityGuard, type AccessGuardOptions } from './api-guards.ts';
import {
  registerAccessRoute,
  registerApiRoutes,
  registerHealthRoute,
  registerMetricsRoute,
} from './api-routes.ts';
import type { StartConversation } from './conversation.ts';
import { ConversationRegistry } from './conversation-registry.ts';
import { CLOSE_GRACE_MS } from './direct-socket.ts';
import { KeyGuessLimiter, type KeyGuessLimits } from './key-guess-limiter.ts';
import { refuse } from './replies.ts';
import { registerSocketRoute } from './socket-route.ts';
import { registerRecordingRoute } from './recording-route.ts';
import { registerUploadRoute } from './upload-route.ts';
import { registerVoiceRoutes } from './voice-routes.ts';

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
  /** How long a new socket may wait before its hello, in ms (default HELLO_TIMEOUT_MS). */
  helloTimeoutMs?: number;
  /** Wrong access keys allowed per address and window (default 5 a minute; tests shorten the window). */
  keyGuessLimits?: KeyGuessLimits;
}

export interface WebServer {
  app: FastifyInstance;
  registry: ConversationRegistry;
  /** Ends every live conversation, then stops listening. */
  close(): Promise<void>;
}

/**
 * The web server: the built page, `POST /api/session` (direct mode, or a LiveKit token),
 * `POST /api/uploads`, `GET /api/recordings/:id/media`, `POST /api/erase`, `POST /api/access`, `GET /healthz` and the
 * direct-mode WebSocket. With `APP_ACCESS_KEY` set, every /api route and the socket
 * refuse requests without it; the page and /healthz stay reachable. The guards belong to
 * the routes (an encapsulated plugin on the `/api` prefix, see api-guards.ts), so no
 * spelling of a path reaches a handler without them.
 */
export async function createWebServer(options: WebServerOptions): Promise<WebServer> {
  const { config, database, logger } = options;
  const registry = new ConversationRegistry();
  // PGlite rewrites tables on this thread: big ones wait until no conversation is live.
  const deferredCompaction =
    database.kind === 'embedded'
      ? new DeferredCompaction(
          database.pool,
          pendingCompactionFile(config.database.dataDir),
          () => registry.size === 0,
          (error) => logger?.error({ err: error }, 'could not compact after an erasure; retried when idle'),
        )
      : undefined;
  const app = Fastify({
    ...(logger ? { loggerInstance: logger as FastifyBaseLogger } : { logger: false }),
    // Requests are not logged one by one; failures are (see the error handler).
    logController: new LogController({ disableRequestLogging: true }),
    // Behind a reverse proxy: X-Forwarded-* gives client addresses (limits), https (cookies, Origin).
    trustProxy: config.server.trustProxy,
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
  await app.register(fastifyWebsocket, {
    options: { maxPayload: MAX_SOCKET_MESSAGE_BYTES },
    // On a bad frame (an oversized message: 1009) ws has already sent its close frame; the
    // default handler cuts the connection at once, and a client still sending then sees a
    // reset (1006) instead. Give the close frame time to arrive; the socket's own handler logs.
    errorHandler: (_error, socket) => {
      setTimeout(() => socket.terminate(), CLOSE_GRACE_MS).unref();
    },
  });

  app.addHook('onSend', async (_request, reply) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'same-origin');
    reply.header('x-frame-options', 'DENY');
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

  const guard: AccessGuardOptions = {
    accessKey: config.server.accessKey,
    limiter: new KeyGuessLimiter(options.keyGuessLimits),
    logger,
  };
  await app.register(
    async (api) => {
      // The one /api route open without the key: where the page sends it (guesses limited there).
      registerAccessRoute(api, { config, guard });
      await api.register(async (guarded) => {
        guarded.addHook('onRequest', accessKeyGuard(guard));
        guarded.addHook('onRequest', identityGuard());
        registerApiRoutes(guarded, {
          config,
          database,
          registry,
          problems: options.problems,
          deferredCompaction,
        });
        registerVoiceRoutes(guarded, { config, database, registry, ...(logger ? { logger } : {}) });
        registerUploadRoute(guarded, { config, database, registry, ...(logger ? { logger } : {}) });
        await registerRecordingRoute(guarded, { config, database });
        registerSocketRoute(guarded, {
          config,
          database,
          registry,
          problems: options.problems,
          startConversation: options.startConversation,
          ...(logger ? { logger } : {}),
          ...(options.helloTimeoutMs ? { helloTimeoutMs: options.helloTimeoutMs } : {}),
        });
      });
    },
    { prefix: '/api' },
  );
  registerHealthRoute(app, { database, registry, config, problems: options.problems });
  await app.register(async (scrape) => {
    scrape.addHook('onRequest', accessKeyGuard(guard));
    registerMetricsRoute(scrape);
  });

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
      // What still waits is in its file: the next start compacts it before serving.
      deferredCompaction?.stop();
      await app.close();
    },
  };
}
