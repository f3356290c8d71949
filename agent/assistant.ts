import { llm, voice, type stt } from '@livekit/agents';
import type { AudioFrame } from '@livekit/rtc-node';
import { TransformStream, type ReadableStream } from 'node:stream/web';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { BackchannelFilter } from './backchannel.ts';
import { refersToCamera, type CameraFrames } from './camera.ts';
import { CitationMarkerFilter } from './citation-markers.ts';
import { ASSISTANT_INSTRUCTIONS } from './instructions.ts';
import type { SpeechSynthesisProgress, TurnRecorder } from './turn-recorder.ts';
import type { NamedTools } from './phone-call.ts';
import type { Knowledge } from './knowledge.ts';
import { memoryTools } from './memory-tools.ts';
import {
  citationsFor,
  referenceItems,
  searchResult,
  type Source,
  type TurnContext,
} from './reference-context.ts';
import { TurnRetrievals } from './turn-retrieval.ts';
import { APP_WRITTEN, UserTurn } from './user-words.ts';

/**
 * Receives what the Assistant does in each turn, for the turn recorder (see
 * agent/turn-recorder.ts): which user message a generation answers, retrieval, the
 * language model's first token and end with the sources it cited, speech synthesis.
 * Times are Date.now() ms.
 */
export type AssistantObserver = Pick<
  TurnRecorder,
  'onGenerationStarted' | 'onFirstToken' | 'onGenerationEnded' | 'onRetrieval' | 'onSpeechSynthesis'
>;

export interface AssistantOptions {
  knowledge: Knowledge;
  conversationId: string;
  instructions?: string;
  /** The user's camera, when on: its latest still is attached to turns about it. */
  camera?: CameraFrames;
  /** Attach the latest still to every turn (low detail), not only turns that refer to it. */
  cameraEveryTurn?: boolean;
  /** Channel-specific tools (the phone's transfer and hang-up). */
  extraTools?: NamedTools;
  /** Where the user's words of the current turn are kept, for tools that must be grounded in them. */
  userTurn?: UserTurn;
  observer?: AssistantObserver;
  logger?: Logger;
  /** Keeps "mm-hm"s said over the agent from taking the turn (see backchannel.ts). */
  backchannels?: BackchannelFilter;
}

/**
 * The one Assistant behind every channel. Per generation it retrieves passages and
 * memories for the latest user message and gives them to the model as untrusted
 * reference material, in the tool role and JSON-encoded (see reference-context.ts),
 * inside `llmNode`, so retrieval overlaps the end-of-turn wait when preemptive
 * generation runs, and typed turns get it too. Citation markers are stripped from what
 * is spoken and shown, and reported to the observer.
 */
export class Assistant extends voice.Agent {
  private readonly observer: AssistantObserver | undefined;
  private readonly logger: Logger | undefined;
  private readonly camera: CameraFrames | undefined;
  private readonly cameraEveryTurn: boolean;
  /** Each user message's retrieval, and the one started on interim words (see turn-retrieval.ts). */
  readonly retrievals: TurnRetrievals;
  /** Sources found by `search_knowledge` during the current answer. */
  private toolSources: Source[] = [];
  /** The user's words of the turn being answered (remember, forget and linking check against them). */
  private readonly turn: UserTurn;
  private readonly backchannels: BackchannelFilter | undefined;

  constructor(options: AssistantOptions) {
    const knowledge = options.knowledge;
    const turn = options.userTurn ?? new UserTurn();
    super({
      instructions: options.instructions ?? ASSISTANT_INSTRUCTIONS,
      tools: {
        search_knowledge: llm.tool({
          description:
            "Search the user's documents and the shared documents for passages about a topic. " +
            'Use it for follow-up questions the given reference material does not answer.',
          parameters: z.object({ query: z.string().describe('What to look for, in a few words') }),
          execute: async ({ query }) => {
            const context = await knowledge.retrieve(query);
            const offset = this.toolSources.length;
            const sources = context.sources.map((source, index) => ({
              ...source,
              id: `S${100 + offset + index + 1}`,
            }));
            this.toolSources.push(...sources);
            return searchResult(sources);
          },
        }),
        ...memoryTools(knowledge, options.conversationId, turn),
        ...options.extraTools,
      },
    });
    this.retrievals = new TurnRetrievals(knowledge);
    this.turn = turn;
    this.camera = options.camera;
    this.cameraEveryTurn = options.cameraEveryTurn ?? false;
    this.observer = options.observer;
    this.logger = options.logger;
    this.backchannels = options.backchannels;
  }

  override async sttNode(
    audio: ReadableStream<AudioFrame> | AsyncIterable<AudioFrame>,
    modelSettings: voice.ModelSettings,
  ): Promise<ReadableStream<stt.SpeechEvent | string> | null> {
    const events = await voice.Agent.default.sttNode(this, audio, modelSettings);
    return events && this.backchannels ? this.backchannels.filter(events) : events;
  }

  override async llmNode(
    chatCtx: llm.ChatContext,
    toolCtx: llm.ToolContext,
    modelSettings: voice.ModelSettings,
  ): Promise<ReadableStream<llm.ChatChunk | string> | null> {
    const lastUser = [...chatCtx.items]
      .reverse()
      .find(
        (item): item is llm.ChatMessage =>
          item.type === 'message' && item.role === 'user' && item.extra[APP_WRITTEN] !== true,
      );
    const question = lastUser?.textContent?.trim() ?? '';
    this.turn.update(question);
    let context: TurnContext = { sources: [], memories: [] };
    if (lastUser && question !== '') {
      const { retrieval, isNew } = this.retrievals.forMessage(lastUser.id, question);
      if (isNew) this.toolSources = [];
      try {
        context = await retrieval.context();
        if (!retrieval.reported) {
          retrieval.reported = true;
          const timing = {
            start: retrieval.startedAt,
            end: retrieval.endedAt ?? Date.now(),
            reusedEmbedding: retrieval.reusedEmbedding,
          };
          this.observer?.onRetrieval(lastUser.id, timing, context.sources);
        }
      } catch (error) {
        // Retrieval is an aid: answer without it rather than not at all.
        this.logger?.error({ err: error }, 'retrieval failed; answering without reference material');
        this.retrievals.reset();
      }
      const reference = referenceItems(context, question, lastUser.createdAt);
      if (reference) {
        chatCtx = chatCtx.copy();
        chatCtx.insert(reference);
      }
      chatCtx = this.withCameraStill(chatCtx, lastUser, question);
    }
    this.observer?.onGenerationStarted(lastUser?.id);
    const upstream = await voice.Agent.default.llmNode(this, chatCtx, toolCtx, modelSettings);
    if (!upstream) return null;
    return this.filterCitations(upstream, [...context.sources, ...this.toolSources]);
  }

  /**
   * Starts retrieving for words the user is still saying (interim transcripts); a final
   * transcript with the same words then uses this retrieval (see turn-retrieval.ts).
   */
  prefetchRetrieval(text: string, superseded?: () => boolean): Promise<void> {
    return this.retrievals.prefetch(text, superseded);
  }

  override async ttsNode(
    text: ReadableStream<string> | AsyncIterable<string>,
    modelSettings: voice.ModelSettings,
  ): Promise<ReadableStream<AudioFrame> | null> {
    const progress = this.observer?.onSpeechSynthesis();
    if (!progress) return voice.Agent.default.ttsNode(this, text, modelSettings);
    const audio = await voice.Agent.default.ttsNode(this, observeFirstText(text, progress), modelSettings);
    if (!audio) return null;
    let first = true;
    return audio.pipeThrough(
      new TransformStream<AudioFrame, AudioFrame>({
        transform(frame, controller) {
          if (first) progress.firstAudio(Date.now());
          first = false;
          controller.enqueue(frame);
        },
        flush: () => progress.ended(Date.now()),
      }),
    );
  }

  /** Attaches the camera's latest still to the user's message when the turn is about it. */
  private withCameraStill(
    chatCtx: llm.ChatContext,
    lastUser: llm.ChatMessage,
    question: string,
  ): llm.ChatContext {
    const still = this.camera?.current();
    if (!still) return chatCtx;
    const referred = refersToCamera(question);
    if (!referred && !this.cameraEveryTurn) return chatCtx;
    const copy = chatCtx.copy();
    const index = copy.items.findIndex((item) => item.id === lastUser.id);
    if (index < 0) return chatCtx;
    copy.items[index] = llm.ChatMessage.create({
      id: lastUser.id,
      role: 'user',
      createdAt: lastUser.createdAt,
      content: [
        ...lastUser.content,
        llm.createImageContent({
          image: still.dataUrl,
          inferenceDetail: referred ? 'auto' : 'low',
          mimeType: 'image/jpeg',
        }),
      ],
    });
    return copy;
  }

  /** Strips citation markers from the streamed answer and reports what it cited. */
  private filterCitations(
    upstream: ReadableStream<llm.ChatChunk | string>,
    sources: Source[],
  ): ReadableStream<llm.ChatChunk | string> {
    const filter = new CitationMarkerFilter();
    const observer = this.observer;
    const allSources = () => [...sources, ...this.toolSources];
    let firstToken = true;
    return upstream.pipeThrough(
      new TransformStream<llm.ChatChunk | string, llm.ChatChunk | string>({
        transform(chunk, controller) {
          const text = typeof chunk === 'string' ? chunk : chunk.delta?.content;
          if (text === undefined || text === '') {
            controller.enqueue(chunk);
            return;
          }
          if (firstToken) {
            firstToken = false;
            observer?.onFirstToken(Date.now());
          }
          const cleaned = filter.push(text);
          if (typeof chunk === 'string') {
            if (cleaned !== '') controller.enqueue(cleaned);
          } else if (cleaned !== '' || chunk.delta?.toolCalls?.length) {
            controller.enqueue({ ...chunk, delta: { ...chunk.delta!, content: cleaned } });
          }
        },
        flush(controller) {
          const rest = filter.end();
          if (rest !== '') controller.enqueue(rest);
          observer?.onGenerationEnded(citationsFor(filter.cited, allSources()));
        },
      }),
    );
  }
}

/** The text going into speech synthesis, noting when its first piece arrives. */
async function* observeFirstText(
  text: ReadableStream<string> | AsyncIterable<string>,
  progress: SpeechSynthesisProgress,
): AsyncIterable<string> {
  for await (const piece of text) {
    progress.textStarted(Date.now());
    yield piece;
  }
}
