import { pino } from 'pino';
import { createConfiguredEmbedder } from '../agent/provider-settings.ts';
import { installStrayErrorHandlers, recordStrayRejection } from '../agent/stray-errors.ts';
import { openDatabase, type Database } from '../db/index.ts';
import { isDatabaseReply, remoteDatabase } from '../db/remote-database.ts';
import { configureSharedDocumentReader } from '../ingest/document-reader.ts';
import { warmUpPdfReading } from '../ingest/warm-up.ts';
import { metrics } from '../telemetry/metrics.ts';
import { ConversationHost } from '../web/server/conversation-host.ts';
import type {
  FromConversationProcess,
  ToConversationProcess,
} from '../web/server/conversation-process-messages.ts';

/**
 * A conversation process of `npm start`'s direct transport (web/server/conversation-pool.ts
 * starts it through app/launch.mjs; it is not a command for people). It waits for the
 * server's `init`, loads the voice models, says `ready`, then runs the conversations the
 * server hands it until told to shut down, or until the server is gone.
 */

const send = (message: FromConversationProcess | object) => {
  if (process.connected) process.send?.(message, undefined, undefined, () => undefined);
};
// Ctrl-C reaches the whole process group: the server decides when this process ends, after
// its conversations were saved.
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => undefined);

let host: ConversationHost | undefined;
let handleDatabaseReply: ((message: unknown) => void) | undefined;
let stopping: Promise<void> | undefined;
const queued: ToConversationProcess[] = [];

const stop = (closeConversations: boolean) =>
  (stopping ??= (async () => {
    // Without the server there is no database (embedded) and nobody to hear: bounded.
    const closed = closeConversations ? host?.closeAll() : undefined;
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
    process.exit(0);
  })());

process.on('message', (message: ToConversationProcess | object) => {
  if (isDatabaseReply(message)) return handleDatabaseReply?.(message);
  const typed = message as ToConversationProcess;
  if (typed.type === 'init') return void initialize(typed);
  if (typed.type === 'shutdown') return void stop(true);
  if (host) host.handle(typed);
  else queued.push(typed);
});
process.on('disconnect', () => void stop(false));

async function initialize(init: Extract<ToConversationProcess, { type: 'init' }>): Promise<void> {
  const { config } = init;
  const logger = pino(
    { level: config.logLevel, name: 'assistant', base: { process: init.name } },
    pino.destination(2),
  );
  installStrayErrorHandlers(logger);
  try {
    let database: Database;
    if (init.database) {
      const remote = remoteDatabase(init.database, send);
      handleDatabaseReply = (message) => remote.handle(message as Parameters<typeof remote.handle>[0]);
      process.on('disconnect', () => remote.failAll(new Error('The server process is gone.')));
      database = remote.database;
    } else {
      // Postgres: migrated and checked by the server already.
      database = await openDatabase({
        url: config.database.url,
        dataDir: config.database.dataDir,
        embeddingDimensions: config.embedding.dimensions,
        migrate: false,
      });
    }
    const reader = configureSharedDocumentReader({
      ...config.documentReader,
      onStrayError: (description) => recordStrayRejection(description, 'a document reader process'),
    });
    if (config.otlpEndpoint) (await import('../telemetry/tracing.ts')).startTracing(config.otlpEndpoint);
    const stack = await import('./voice-stack.ts');
    stack.initializeAgentsLogging(config.logLevel === 'silent' ? 'fatal' : config.logLevel);
    const models = stack.loadSharedModels();
    await models;
    host = new ConversationHost({
      startConversation: stack.voiceConversations({
        config,
        database,
        models: () => models,
        embedder: createConfiguredEmbedder(config),
        logger,
      }),
      send,
      metrics: () => metrics().registry.getMetricsAsJSON(),
      logger,
    });
    for (const message of queued.splice(0)) host.handle(message);
    send({ type: 'ready' });
    // Documents sent into this process's conversations are read by its reader processes:
    // their first PDF loads pdf.js (about a second), done now rather than at a person's upload.
    void warmUpPdfReading(reader).catch((error: unknown) =>
      logger.warn({ err: error }, 'could not warm up PDF reading'),
    );
  } catch (error) {
    logger.error({ err: error }, 'a conversation process could not start');
    send({ type: 'failed', message: `The voice models could not be loaded: ${(error as Error).message}` });
    setTimeout(() => process.exit(1), 100).unref();
  }
}
