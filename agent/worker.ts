import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cli, defineAgent, ServerOptions, type JobContext, type JobProcess } from '@livekit/agents';
import { ParticipantKind, RoomEvent } from '@livekit/rtc-node';
import { pino } from 'pino';
import { ConfigError, loadConfig, type Config } from '../config/load.ts';
import { flushTraces, startTracing } from '../telemetry/tracing.ts';
import { configureSharedDocumentReader } from '../ingest/document-reader.ts';
import { recordStrayRejection } from './stray-errors.ts';
import { openDatabase, resolveUser, type Database } from '../db/index.ts';
import { CameraFrames } from './camera.ts';
import { followCamera } from './camera-track.ts';
import { identityOfParticipant } from './participant-identity.ts';
import { receiveRoomUploads, roomEventSender } from './room-uploads.ts';
import { liveKitCallControl } from './phone-call.ts';
import { createConfiguredEmbedder, ProviderConfigurationError } from './provider-settings.ts';
import { followVoiceChoice } from './room-voice.ts';
import { loadSharedModels, startVoiceSession, type SharedModels } from './voice-session.ts';

/**
 * The LiveKit worker: registers as AGENT_NAME (explicit dispatch only) and runs one
 * voice session per room it is dispatched to. LiveKit runs each job in its own
 * process, so the worker needs Postgres (DATABASE_URL); the embedded database
 * belongs to a single process.
 */
interface ProcessData extends Record<string, unknown> {
  models?: SharedModels;
}

export default defineAgent<ProcessData>({
  prewarm: async (process: JobProcess<ProcessData>) => {
    process.userData.models = await loadSharedModels();
  },
  entry: async (context: JobContext<ProcessData>) => {
    const config = loadConfig();
    const logger = pino({ level: config.logLevel, name: 'agent' }, pino.destination(2));
    // Each job runs in a process of its own: its uploads are read with the configured caps.
    configureSharedDocumentReader({
      ...config.documentReader,
      onStrayError: (description) => recordStrayRejection(description, 'a document reader process'),
    });
    const database = await openWorkerDatabase(config);
    context.addShutdownCallback(() => database.close());
    // Each job runs in its own process: its traces need their own exporter.
    if (config.otlpEndpoint) {
      startTracing(config.otlpEndpoint);
      context.addShutdownCallback(() => flushTraces());
    }
    const models = context.proc.userData.models ?? (await loadSharedModels());

    try {
      await context.connect();
    } catch (error) {
      // Without its room the job has nothing to do: one line says why, the job ends (its
      // process exits and runs the shutdown callbacks) and the worker takes the next one.
      logger.error(
        { jobId: context.job.id },
        `could not join the room "${context.job.room?.name ?? ''}" at ${context.info.url}: ` +
          `${error instanceof Error ? error.message : String(error)}; this job ends, the worker stays up`,
      );
      context.shutdown('could not join the room');
      return;
    }
    const participant = await context.waitForParticipant();
    const identity = identityOfParticipant({
      identity: participant.identity,
      isSip: participant.kind === ParticipantKind.SIP,
      attributes: participant.attributes,
      dispatchMetadata: context.job.metadata,
    });
    const userId = await resolveUser(database.pool, identity);
    const onPhone = participant.kind === ParticipantKind.SIP;
    const call =
      onPhone && config.livekit
        ? liveKitCallControl(config.livekit, {
            roomName: context.room.name ?? '',
            participantIdentity: participant.identity,
            transferNumber: config.telephony.transferNumber,
          })
        : undefined;
    const sendEvent = roomEventSender(context.room);
    const camera = new CameraFrames();
    if (!onPhone) followCamera(context.room, participant.identity, camera);
    const voice = await startVoiceSession(
      {
        config,
        database,
        models,
        embedder: createConfiguredEmbedder(config),
        userId,
        channel: onPhone ? 'phone' : 'web',
        logger,
        onEvent: sendEvent,
        inJob: true,
        ...(call ? { call } : { camera }),
      },
      { room: context.room, participantIdentity: participant.identity },
    );
    receiveRoomUploads(context.room, participant.identity, voice, config.limits.uploadMaxBytes, sendEvent);
    followVoiceChoice(context.room, participant.identity, voice, logger);
    context.room.on(RoomEvent.DtmfReceived, (_code, digit, sender) => {
      if (sender.identity === participant.identity) voice.pressKey(digit);
    });
    context.addShutdownCallback(() => voice.close());
  },
});

async function openWorkerDatabase(config: Config): Promise<Database> {
  if (!config.database.url) {
    throw new ProviderConfigurationError(
      'The LiveKit worker runs each conversation in its own process and needs a shared database: set DATABASE_URL ' +
        '(Postgres with pgvector), or unset LIVEKIT_URL to use the embedded database with the direct transport.',
    );
  }
  return openDatabase({
    url: config.database.url,
    dataDir: config.database.dataDir,
    embeddingDimensions: config.embedding.dimensions,
  });
}

/**
 * Fails, naming AGENT_HEALTH_PORT, when the worker's health check cannot listen (another
 * worker on this host has it): the framework would otherwise end the whole process later
 * with a bare `EADDRINUSE`, after the page's URL was printed.
 */
export async function checkWorkerHealthPort(config: Config): Promise<void> {
  if (!config.livekit) return;
  const { healthPort } = config.livekit;
  const host = config.server.host;
  const probe = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen(healthPort, host, () => resolve());
    });
  } catch (error) {
    throw new ConfigError(
      `AGENT_HEALTH_PORT: the agent worker's health check cannot listen on ${host}:${healthPort} ` +
        `(${(error as NodeJS.ErrnoException).code ?? String(error)}; another worker on this host?). Set AGENT_HEALTH_PORT to a free port.`,
    );
  } finally {
    await new Promise((resolve) => probe.close(resolve));
  }
}

/** Runs the LiveKit worker in this process (`npm start` with LIVEKIT_URL; see app/serve.ts). */
export function runWorker(config: Config): void {
  if (!config.livekit)
    throw new ProviderConfigurationError(
      'The LiveKit worker needs LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET.',
    );
  // Each job process imports this file, TypeScript, with the worker's Node flags (fork's
  // default): under the compiled commands (app/launch.mjs) those lack tsx's loader.
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  if (!process.execArgv.some((flag) => flag.includes('tsx'))) process.execArgv.push('--import', tsx);
  cli.runApp(
    new ServerOptions({
      agent: fileURLToPath(import.meta.url),
      agentName: config.agentName,
      wsURL: config.livekit.url,
      apiKey: config.livekit.apiKey,
      apiSecret: config.livekit.apiSecret,
      // The framework's default is 0.0.0.0:8081: every interface, and a second worker on the host crashes.
      host: config.server.host,
      port: config.livekit.healthPort,
      // A job process loads the whole assistant (under tsx) and the voice models before it
      // reports ready: over the framework's 10 s on two busy cores, which kills and restarts it.
      initializeProcessTimeout: 60_000,
      logLevel: config.logLevel === 'silent' ? 'fatal' : config.logLevel,
    }),
  );
}
