import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { warmUpPdfReading } from '../ingest/warm-up.ts';
import { installStrayErrorHandlers, recordStrayRejection } from '../agent/stray-errors.ts';
import { sweepAfterCrash } from '../agent/startup-sweep.ts';
import { configureSharedDocumentReader } from '../ingest/document-reader.ts';
import {
  createConfiguredEmbedder,
  describeMissingProviders,
  ProviderConfigurationError,
} from '../agent/provider-settings.ts';
import type { Config } from '../config/load.ts';
import type { Database } from '../db/index.ts';
import { CLIENT_DIRECTORY, ensureClientBuilt } from '../web/client-build.ts';
import { loadCookieSecret } from '../web/server/access.ts';
import { createWebServer } from '../web/server/create-server.ts';
import type { StartConversation } from '../web/server/conversation.ts';
import { ConversationPool } from '../web/server/conversation-pool.ts';
import type * as VoiceStackModule from './voice-stack.ts';
import type { SharedModels } from './voice-stack.ts';
import { instrumentQueries } from '../telemetry/database.ts';
import { metrics } from '../telemetry/metrics.ts';
import { openConfiguredDatabase } from './open-database.ts';

type VoiceStack = typeof VoiceStackModule;

/** The assistant running on this machine. */
export interface RunningAssistant {
  /** Where to open the page. */
  url: string;
  mode: 'direct' | 'livekit';
  database: Database;
  /** What keeps it from answering (no model provider); empty when it can. */
  problems: string[];
  /** Ends live conversations, stops the server and closes the database. */
  close(): Promise<void>;
}

/**
 * Wires the whole assistant: database, the page (built when missing or stale), the web
 * server, and the agent: room-less sessions over the direct WebSocket without
 * LIVEKIT_URL, the LiveKit worker with it. Without a model provider it starts anyway:
 * the page says what to set and no conversation starts.
 */
export async function serve(
  config: Config,
  options: { onStep?: (what: string) => void } = {},
): Promise<RunningAssistant> {
  if (config.livekit && !config.database.url) {
    throw new ProviderConfigurationError(
      'With LIVEKIT_URL the agent runs each conversation in its own process, which the embedded database does ' +
        'not allow: set DATABASE_URL (Postgres with pgvector), or unset LIVEKIT_URL to use the direct transport.',
    );
  }
  // Logs on stderr: stdout carries only what the command prints for people (the URL, the settings).
  const logger = pino({ level: config.logLevel, name: 'assistant' }, pino.destination(2));
  // A stray rejection must never drop everyone's conversations: logged, counted, carried on.
  installStrayErrorHandlers(logger);
  const reader = configureSharedDocumentReader({
    ...config.documentReader,
    onStrayError: (description) => recordStrayRejection(description, 'a document reader process'),
  });
  // The voice half, loaded on first need (see app/voice-stack.ts); the framework logs
  // through our logger from before any of its objects exists.
  let stack: Promise<VoiceStack> | undefined;
  const voiceStack = () =>
    (stack ??= import('./voice-stack.ts').then((loaded) => {
      loaded.initializeAgentsLogging(config.logLevel === 'silent' ? 'fatal' : config.logLevel);
      return loaded;
    }));
  const database = await openConfiguredDatabase(config);
  let pool: ConversationPool | undefined;
  instrumentQueries(database, metrics());
  // Tracing hooks into LiveKit Agents, so it is loaded only when asked for.
  const tracing = config.otlpEndpoint ? await import('../telemetry/tracing.ts') : undefined;
  if (config.otlpEndpoint) tracing?.startTracing(config.otlpEndpoint);
  try {
    // The embedded database belongs to this process alone: what a killed predecessor left
    // half done (uploads never read, conversations never ended) is cleared now.
    if (!config.database.url) {
      const processStart = new Date(Date.now() - process.uptime() * 1000);
      const swept = await sweepAfterCrash(
        database,
        config.database.uploadsDirectory,
        processStart,
        config.database.dataDir,
      );
      if (
        swept.removedUploads + swept.endedConversations + swept.removedFiles + swept.compactedTables.length >
        0
      ) {
        logger.info(swept, 'cleared what an earlier process left half done');
      }
    }
    const problems = describeMissingProviders(config);
    await ensureClientBuilt(() =>
      options.onStep?.('Building the page (web/client/dist), once after each change to it…'),
    );
    let models: Promise<SharedModels> | undefined;
    const loadModels = () => (models ??= voiceStack().then((loaded) => loaded.loadSharedModels()));
    let conversations: Promise<StartConversation> | undefined;
    // Direct mode: conversations in processes of their own (web/server/conversation-pool.ts,
    // started once the server listens), unless VOICE_PROCESSES=0 keeps them in this one.
    const pooled = !config.livekit && problems.length === 0 && config.voiceProcesses > 0;
    const startConversation: StartConversation = pooled
      ? (userId, channel) => (pool as ConversationPool).start(userId, channel)
      : async (userId, channel) => {
          conversations ??= voiceStack().then((loaded) =>
            loaded.voiceConversations({
              config,
              database,
              models: loadModels,
              embedder: createConfiguredEmbedder(config),
              logger,
            }),
          );
          return (await conversations)(userId, channel);
        };
    const runsWorker = config.livekit !== undefined && problems.length === 0;
    if (runsWorker) await (await voiceStack()).checkWorkerHealthPort(config);
    const web = await createWebServer({
      config,
      database,
      cookieSecret: await loadCookieSecret(config.database.dataDir, config.server.accessKey),
      problems,
      startConversation,
      clientDirectory: CLIENT_DIRECTORY,
      logger,
    });
    await web.app.listen({ host: config.server.host, port: config.server.port });
    // Once the server answers, before the first visitor starts a conversation: the planner's
    // statistics (db/planner-statistics.ts), the conversation processes or (VOICE_PROCESSES=0)
    // the voice stack with the VAD and end-of-turn weights (part of their loading is
    // synchronous), and a reader process's first PDF, which loads pdf.js (about a second).
    void database
      .refreshStatistics()
      .catch((error: unknown) => logger.warn({ err: error }, 'could not refresh the planner statistics'));
    if (pooled) {
      const running = new ConversationPool({ config, database, processes: config.voiceProcesses, logger });
      pool = running;
      metrics().includeProcesses(async () => (await running.stats()).map((stats) => stats.metrics));
      running
        .ready()
        .catch((error: unknown) => logger.error({ err: error }, 'could not load the voice models'));
    }
    // The conversation processes warm up their own readers, which read their conversations' uploads.
    if (!config.livekit && problems.length === 0 && !pooled) {
      loadModels().catch((error: unknown) => logger.error({ err: error }, 'could not load the voice models'));
      void warmUpPdfReading(reader).catch((error: unknown) =>
        logger.warn({ err: error }, 'could not warm up PDF reading'),
      );
    }
    if (runsWorker) {
      // The agents CLI reads its command from argv; `npm start` means its `start`.
      process.argv.splice(2, Infinity, 'start');
      (await voiceStack()).runWorker(config);
    }
    const address = web.app.server.address() as AddressInfo;
    return {
      url: `http://${browsableHost(config.server.host)}:${address.port}`,
      mode: config.livekit ? 'livekit' : 'direct',
      database,
      problems,
      async close() {
        await web.close();
        await pool?.close();
        if (pool) metrics().includeProcesses(undefined);
        await reader.close();
        await database.close();
        await tracing?.stopTracing();
      },
    };
  } catch (error) {
    await pool?.close();
    await reader.close();
    await database.close();
    throw error;
  }
}

/** A wildcard listen address is not something to type into a browser. */
function browsableHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}
