import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { warmUpPdfReading } from '../ingest/warm-up.ts';
import { initializeAgentsLogging } from '../agent/logging.ts';
import { installStrayErrorHandlers, recordStrayRejection } from '../agent/stray-errors.ts';
import { sweepAfterCrash } from '../agent/startup-sweep.ts';
import { configureSharedDocumentReader } from '../ingest/document-reader.ts';
import {
  createConfiguredEmbedder,
  describeMissingProviders,
  ProviderConfigurationError,
} from '../agent/providers.ts';
import { loadSharedModels, type SharedModels } from '../agent/voice-session.ts';
import { checkWorkerHealthPort, runWorker } from '../agent/worker.ts';
import type { Config } from '../config/load.ts';
import type { Database } from '../db/index.ts';
import { CLIENT_DIRECTORY, ensureClientBuilt } from '../web/client-build.ts';
import { loadCookieSecret } from '../web/server/access.ts';
import { createWebServer } from '../web/server/create-server.ts';
import { voiceConversations } from '../web/server/voice-conversation.ts';
import { instrumentQueries } from '../telemetry/database.ts';
import { metrics } from '../telemetry/metrics.ts';
import { startTracing, stopTracing } from '../telemetry/tracing.ts';
import { openConfiguredDatabase } from './open-database.ts';

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
  // Before any plugin object exists (describeMissingProviders builds them): the framework logs through it.
  initializeAgentsLogging(config.logLevel === 'silent' ? 'fatal' : config.logLevel);
  const database = await openConfiguredDatabase(config);
  instrumentQueries(database, metrics());
  if (config.otlpEndpoint) startTracing(config.otlpEndpoint);
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
    const loadModels = () => (models ??= loadSharedModels());
    const runsWorker = config.livekit !== undefined && problems.length === 0;
    if (runsWorker) await checkWorkerHealthPort(config);
    const web = await createWebServer({
      config,
      database,
      cookieSecret: await loadCookieSecret(config.database.dataDir, config.server.accessKey),
      problems,
      startConversation: voiceConversations({
        config,
        database,
        models: loadModels,
        embedder: createConfiguredEmbedder(config),
        logger,
      }),
      clientDirectory: CLIENT_DIRECTORY,
      logger,
    });
    await web.app.listen({ host: config.server.host, port: config.server.port });
    // Once the server answers, before the first visitor starts a conversation: the VAD and
    // end-of-turn weights (part of their loading is synchronous), and a reader process's
    // first PDF, which loads pdf.js (about a second).
    if (!config.livekit && problems.length === 0) {
      loadModels().catch((error: unknown) => logger.error({ err: error }, 'could not load the voice models'));
      void warmUpPdfReading(reader).catch((error: unknown) =>
        logger.warn({ err: error }, 'could not warm up PDF reading'),
      );
    }
    if (runsWorker) {
      // The agents CLI reads its command from argv; `npm start` means its `start`.
      process.argv.splice(2, Infinity, 'start');
      runWorker(config);
    }
    const address = web.app.server.address() as AddressInfo;
    return {
      url: `http://${browsableHost(config.server.host)}:${address.port}`,
      mode: config.livekit ? 'livekit' : 'direct',
      database,
      problems,
      async close() {
        await web.close();
        await reader.close();
        await database.close();
        await stopTracing();
      },
    };
  } catch (error) {
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
