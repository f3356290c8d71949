import { voice } from '@livekit/agents';
import type { Logger } from 'pino';
import type { Config } from '../config/load.ts';
import { createConversation, endConversation, listMessages, type Database } from '../db/index.ts';
import type { Embedder } from '../ingest/embeddings.ts';
import { Assistant } from './assistant.ts';
import { Knowledge } from './knowledge.ts';
import { initializeAgentsLogging } from './logging.ts';
import { createLanguageModel } from './providers.ts';
import { AppError, type Citation } from '../protocol/index.ts';
import { TranscriptRecorder } from './transcript-recorder.ts';

export interface TextAnswer {
  answer: string;
  citations: Citation[];
  /** The turn's id (`npm run turns` shows its stage timings). */
  turnId: string;
  conversationId: string;
}

export interface AskOptions {
  config: Config;
  database: Database;
  embedder: Embedder | undefined;
  userId: string;
  logger?: Logger;
}

/**
 * One typed question through the same Assistant as a voice conversation (retrieval,
 * memory, tools), without audio: the language model alone. Used by `npm run ask`.
 */
export async function askOnce(options: AskOptions, question: string): Promise<TextAnswer> {
  initializeAgentsLogging(options.config.logLevel === 'silent' ? 'fatal' : 'warn');
  const { database } = options;
  const conversationId = await createConversation(database.pool, options.userId, 'web');
  const knowledge = new Knowledge(database, options.embedder, options.userId, options.logger);
  const recorder = new TranscriptRecorder(database, conversationId, () => undefined, options.logger);
  const agent = new Assistant({
    knowledge,
    conversationId,
    observer: recorder.turns,
    ...(options.logger ? { logger: options.logger } : {}),
  });
  const session = new voice.AgentSession({
    llm: createLanguageModel(options.config),
    vad: null,
    turnHandling: { turnDetection: null },
    userAwayTimeout: null,
  });
  recorder.attach(session);
  let failure: Error | undefined;
  session.on(voice.AgentSessionEventTypes.Error, (event) => {
    if (!(event.error as { recoverable?: boolean }).recoverable)
      failure ??= (event.error as { error?: Error }).error;
  });
  await session.start({ agent });
  try {
    recorder.expectTypedMessage();
    await session.run({ userInput: question, inputModality: 'text' }).wait();
  } finally {
    await session.close();
    await recorder.flushed();
    await endConversation(database.pool, conversationId);
  }
  const saved = (await listMessages(database.pool, conversationId)).filter(
    (message) => message.role === 'assistant',
  );
  const last = saved.at(-1);
  if (!last) {
    throw new AppError(
      'no-answer',
      `The language model did not answer${failure ? `: ${failure.message}` : ''}.`,
      {
        userFacing: true,
        retryable: true,
      },
    );
  }
  return { answer: last.text, citations: last.citations, turnId: last.turnId ?? last.id, conversationId };
}
