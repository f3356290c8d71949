import { voice, type VAD } from '@livekit/agents';
import * as silero from '@livekit/agents-plugin-silero';
import type { Room } from '@livekit/rtc-node';
import type { Logger } from 'pino';
import type { Config } from '../config/load.ts';
import {
  createConversation,
  endConversation,
  findVoiceChoice,
  hasEarlierConversation,
  type Channel,
  type Database,
} from '../db/index.ts';
import type { Embedder } from '../ingest/embeddings.ts';
import { Assistant } from './assistant.ts';
import { BackchannelFilter } from './backchannel.ts';
import type { ConversationEventListener } from '../protocol/index.ts';
import { ASSISTANT_INSTRUCTIONS, WEB_GREETING } from './instructions.ts';
import {
  instructionsForKey,
  PHONE_INSTRUCTIONS,
  phoneGreeting,
  phoneTools,
  type CallControl,
} from './phone-call.ts';
import type { CameraFrames } from './camera.ts';
import { Knowledge } from './knowledge.ts';
import { UserTurn } from './user-words.ts';
import { watchSpeechToText } from './speech-to-text-watchdog.ts';
import { ResilientSpeechToText } from './resilient-speech-to-text.ts';
import { initializeAgentsLogging } from './logging.ts';
import { createLanguageModel, createSpeechToText, createTextToSpeech, switchVoice } from './providers.ts';
import { chooseTextToSpeech, createRecordingTranscriber, createVisionClient } from './provider-settings.ts';
import {
  ConversationEndedError,
  ConversationUploads,
  type ReceivedFile,
  type UploadReceipt,
} from './conversation-uploads.ts';
import { addUploadedImage } from './visual-context.ts';
import type { VisionModel } from '../ingest/vision.ts';
import { summarizeConversation } from './summary.ts';
import { EventTextOutput } from './text-output.ts';
import { observeConversation } from '../telemetry/conversation.ts';
import { TranscriptRecorder } from './transcript-recorder.ts';
import { ProviderFaults } from './provider-faults.ts';
import { releaseFreedMemorySoon } from './release-memory.ts';
import { createTurnDetector, prewarmEndOfTurnModel } from './turn-detector.ts';
import { TURN_TAKING } from './turn-taking/decision.ts';
import type { TurnTakingDetector } from './turn-taking/detector.ts';
import { followUserTranscripts } from './turn-taking/follow-transcripts.ts';

/** Models loaded once per process and shared by every session. */
export interface SharedModels {
  vad: VAD;
}

/** Loads Silero VAD (ships in the plugin) and the end-of-turn model's weights. */
export async function loadSharedModels(): Promise<SharedModels> {
  initializeAgentsLogging();
  const vad = await silero.VAD.load({ minSilenceDuration: TURN_TAKING.vadMinSilenceMs });
  // Every live session adds a metrics listener to the shared VAD (removed at its close):
  // more than 10 sessions is normal, not a leak.
  vad.setMaxListeners(0);
  prewarmEndOfTurnModel();
  return { vad };
}

export interface VoiceSessionOptions {
  config: Config;
  database: Database;
  models: SharedModels;
  embedder: Embedder | undefined;
  userId: string;
  channel: Channel;
  onEvent?: ConversationEventListener;
  logger?: Logger;
  /** Spoken when the session starts; null for none. */
  greeting?: string | null;
  /** Overrides of retry and timeout behaviour (tests make provider faults fail fast). */
  connOptions?: voice.AgentSessionOptions['connOptions'];
  /** Inside a LiveKit job: use the job's shared inference process for end-of-turn. */
  inJob?: boolean;
  /** Phone calls: transfer and hang-up, which add the phone's tools and instructions. */
  call?: CallControl;
  /** The user's camera stills (web sessions with a camera). */
  camera?: CameraFrames;
  /** Record each turn's stage timings (default true; the bench measures the cost with false). */
  recordTurns?: boolean;
}

/** Either a LiveKit room, or audio input and output owned by the caller (direct transport, tests). */
export type SessionTransport =
  | { room: Room; participantIdentity?: string }
  | { audioInput: voice.AudioInput; audioOutput: voice.AudioOutput };

export interface VoiceSession {
  readonly session: voice.AgentSession;
  readonly conversationId: string;
  readonly recorder: TranscriptRecorder;
  /** The turn-taking decision's detector: `onDecision` reports each decision's signals. */
  readonly turnTaking: TurnTakingDetector;
  /** A typed message, answered through the same session as speech. */
  sendText(text: string): voice.SpeechHandle;
  /** A key the caller pressed on their phone (DTMF). */
  pressKey(digit: string): void;
  /**
   * Speaks from the next answer on in `voiceId`, or, without it, in the voice the user
   * has chosen now (read from the database: in LiveKit mode the choice is made in the
   * web process and only announced to this one).
   */
  useVoice(voiceId?: string): Promise<void>;
  /** A file sent into the conversation (any transport); see agent/conversation-uploads.ts. */
  receiveUpload(file: ReceivedFile): Promise<UploadReceipt>;
  /** Ends the conversation: closes the session, saves the transcript and a summary memory. */
  close(): Promise<void>;
}

/**
 * Assembles one conversation: explicit VAD, end-of-turn model, STT, LLM and TTS
 * (never the cloud defaults), the Assistant, transcript recording, provider-fault
 * handling, and the greeting.
 */
export async function startVoiceSession(
  options: VoiceSessionOptions,
  transport: SessionTransport,
): Promise<VoiceSession> {
  const { config, database } = options;
  const emit: ConversationEventListener = options.onEvent ?? (() => undefined);

  const conversationId = await createConversation(database.pool, options.userId, options.channel);
  const logger = options.logger?.child({ conversationId });
  const telemetry = observeConversation(conversationId, options.channel);
  const knowledge = new Knowledge(database, options.embedder, options.userId, logger);
  const recordTurns = options.recordTurns ?? true;
  const recorder = new TranscriptRecorder(database, conversationId, emit, logger, {
    recordTurns,
    onTurn: (turn) => telemetry.recordTurn(turn),
  });
  const onPhone = options.channel === 'phone';
  const userTurn = new UserTurn();
  const backchannels = new BackchannelFilter();
  const agent = new Assistant({
    knowledge,
    conversationId,
    userTurn,
    backchannels,
    ...(recordTurns ? { observer: recorder.turns } : {}),
    ...(options.camera ? { camera: options.camera, cameraEveryTurn: config.cameraEveryTurn } : {}),
    ...(onPhone ? { instructions: ASSISTANT_INSTRUCTIONS + PHONE_INSTRUCTIONS } : {}),
    ...(onPhone && options.call
      ? {
          extraTools: phoneTools(
            options.call,
            { link: (code) => knowledge.linkAccount(code, conversationId) },
            userTurn,
          ),
        }
      : {}),
    ...(logger ? { logger } : {}),
  });
  const languageModel = createLanguageModel(config);
  const faults = new ProviderFaults(emit, logger, (provider, error) =>
    telemetry.recordProviderError(provider, error),
  );
  const speechToText = new ResilientSpeechToText(createSpeechToText(config), (error) => {
    faults.report('speech to text', error);
    // A fresh recognition pipeline (and connection) for the next thing the user says.
    session.clearUserTurn();
  });

  const turnTaking = createTurnDetector({ inJob: options.inJob ?? false });
  // Owned by this conversation: the session does not close it, and the ElevenLabs
  // plugin keeps its WebSocket open until closed (a socket per ended conversation, and
  // `npm start` could not exit while one was open).
  // The person's chosen voice (web or a linked phone: one user), else the configured one.
  const ttsProvider = chooseTextToSpeech(config).provider;
  const chosenVoice = () => findVoiceChoice(database.pool, options.userId, ttsProvider);
  const textToSpeech = createTextToSpeech(config, await chosenVoice());
  const session: voice.AgentSession = new voice.AgentSession({
    vad: options.models.vad,
    stt: speechToText,
    llm: languageModel,
    tts: textToSpeech,
    turnHandling: {
      // The audio model plus the words heard: see agent/turn-taking/decision.ts.
      turnDetection: turnTaking,
      endpointing: { minDelay: 300, maxDelay: TURN_TAKING.maxDelayMs },
      // Interruptions by voice activity only: the adaptive mode needs LiveKit's cloud. 250 ms
      // of speech pauses the agent within 300 ms of the user's onset (bench barge-in). A pause
      // with no committed user turn resumes after falseInterruptionTimeout, which must outlast
      // the turn-taking decision's longest wait, or the agent talks on before the turn commits.
      interruption: {
        enabled: true,
        mode: 'vad',
        minDuration: 250,
        resumeFalseInterruption: true,
        falseInterruptionTimeout: TURN_TAKING.maxDelayMs + 500,
      },
      preemptiveGeneration: { enabled: true },
    },
    userAwayTimeout: null,
    // The client cancels echo itself (getUserMedia echoCancellation, telephony gateways);
    // suppressing interruptions for the first seconds of every answer would make barge-in sluggish.
    aecWarmupDuration: null,
    connOptions: {
      sttConnOptions: { maxRetry: 3, retryIntervalMs: 500, timeoutMs: 10_000 },
      llmConnOptions: { maxRetry: 1, retryIntervalMs: 250, timeoutMs: 8_000 },
      ttsConnOptions: { maxRetry: 1, retryIntervalMs: 250, timeoutMs: 8_000 },
      // A provider failure is answered with an apology, never by ending the conversation.
      maxUnrecoverableErrors: Number.MAX_SAFE_INTEGER,
      ...options.connOptions,
    },
  });

  backchannels.attach(session);

  if ('audioInput' in transport) {
    session.input.audio = transport.audioInput;
    session.output.audio = transport.audioOutput;
    session.output.transcription = new EventTextOutput(
      emit,
    ) as unknown as typeof session.output.transcription;
  }
  followUserTranscripts(session, turnTaking, agent);
  recorder.attach(session);
  faults.attach(session);
  watchSpeechToText(session, (speechMs) => {
    faults.report('speech to text', new Error(`no transcript for ${speechMs} ms of speech`));
    session.clearUserTurn();
  });

  turnTaking.onDecision(({ text: _words, at: _at, ...signals }) => recorder.turns.recordDecision(signals));
  // Inside the conversation's trace: the framework's spans (agent_session and below) join it.
  await telemetry.within(() =>
    session.start({
      agent,
      ...('room' in transport
        ? {
            room: transport.room,
            inputOptions: transport.participantIdentity
              ? { participantIdentity: transport.participantIdentity }
              : {},
          }
        : {}),
    }),
  );
  const greeting =
    options.greeting !== undefined
      ? options.greeting
      : onPhone
        ? phoneGreeting(await hasEarlierConversation(database.pool, options.userId, conversationId))
        : WEB_GREETING;
  if (greeting) session.say(greeting, { allowInterruptions: true });

  let closing: Promise<void> | undefined;
  let uploads: ConversationUploads | undefined;
  return {
    session,
    conversationId,
    recorder,
    turnTaking,
    sendText(text) {
      recorder.expectTypedMessage();
      faults.userTurnStarted();
      session.interrupt();
      return session.generateReply({ userInput: text, inputModality: 'text' });
    },
    receiveUpload(file) {
      if (closing) return Promise.reject(new ConversationEndedError());
      uploads ??= new ConversationUploads({
        config,
        database,
        embedder: options.embedder,
        vision: createVisionClientOrWarn(config, logger),
        transcriber: createRecordingTranscriber(config),
        userId: options.userId,
        conversationId,
        addImage: (image, fileName) => addUploadedImage(session.currentAgent, image, fileName),
        // Said for the user, kept out of the model's context: the notices name the file,
        // whose name and metadata the uploader chose (the document itself reaches the
        // model only as data, through search).
        say: (text) => {
          session.say(text, { allowInterruptions: true, addToChatCtx: false });
          // Out of the context, so the page is told directly (it shows the notice as a line).
          emit({ type: 'transcript', role: 'assistant', text, final: true });
        },
        emit,
        logger,
      });
      return uploads.receive(file);
    },
    async useVoice(voiceId) {
      const voice = voiceId ?? (await chosenVoice());
      if (voice && !closing) switchVoice(textToSpeech, voice);
    },
    pressKey(digit) {
      const instructions = instructionsForKey(digit);
      if (!instructions) return;
      session.interrupt();
      session.generateReply({ instructions });
    },
    close() {
      closing ??= (async () => {
        // First: documents still being read are cancelled and leave nothing behind.
        await uploads?.close();
        await session.close();
        await textToSpeech.close();
        await recorder.flushed();
        telemetry.end();
        const summary =
          recorder.userMessages > 0
            ? await summarizeConversation(languageModel, session.history, logger)
            : undefined;
        if (summary) await knowledge.remember(summary, 'summary', conversationId).catch(() => undefined);
        await endConversation(database.pool, conversationId, summary ?? null);
        await database.refreshStatistics().catch(() => undefined);
        // What the session's native parts freed stays with the allocator unless asked for.
        releaseFreedMemorySoon();
      })();
      return closing;
    },
  };
}

/** The vision model, or undefined (and a warning) when VISION_MODEL cannot be used as configured. */
function createVisionClientOrWarn(config: Config, logger?: Logger): VisionModel | undefined {
  try {
    return createVisionClient(config);
  } catch (error) {
    logger?.warn({ err: error }, 'the vision model cannot be used; images are not captioned');
    return undefined;
  }
}
