import type { ServerResponse } from 'node:http';
import { wordsOf } from './audio-signal.ts';
import type { HttpFault } from './faults.ts';
import { openAIErrorBody } from './faults.ts';
import type { FakeHttpServer, RecordedHttpRequest } from './http-server.ts';
import { recordRequest, sendJson, startHttpServer } from './http-server.ts';
import type { Transcriber, TranscriptionRequest } from './openai-audio.ts';
import { answerSpeech, answerTranscription, numberedTranscriber } from './openai-audio.ts';
import type { ChatCompletionBody, ChatReply, ChatResponder } from './openai-chat.ts';
import { chatBodyProblem, describeChatRequest, echoResponder } from './openai-chat.ts';
import { chatCompletionObject, streamChatReply } from './openai-chat-stream.ts';
import type { EmbeddingSettings } from './text-embedding.ts';
import { embedText, embeddingToBase64 } from './text-embedding.ts';
import { sleep, untilAborted } from './timing.ts';

/** Milliseconds each endpoint waits before answering; benchmarks set published medians. */
export interface OpenAILatency {
  /** Before the first streamed chunk (or the whole non-streamed reply). */
  chatFirstToken: number;
  /** Between streamed chunks. */
  chatTokenInterval: number;
  embeddings: number;
  /** Before the first byte of synthesized audio. */
  speechFirstByte: number;
  transcription: number;
}

/** The endpoints a fault can be armed for. */
export type OpenAIEndpoint = 'chat' | 'embeddings' | 'transcription' | 'speech' | 'models';

const endpointPaths: Record<string, OpenAIEndpoint> = {
  'POST /v1/chat/completions': 'chat',
  'POST /v1/embeddings': 'embeddings',
  'POST /v1/audio/transcriptions': 'transcription',
  'POST /v1/audio/speech': 'speech',
  'GET /v1/models': 'models',
};

export interface OpenAIServerOptions {
  latency?: Partial<OpenAILatency>;
  /** Default embedding length (default 1536); a request's `dimensions` wins. */
  embeddingDimensions?: number;
  synonyms?: EmbeddingSettings['synonyms'];
  embedOverride?: EmbeddingSettings['override'];
  chatResponder?: ChatResponder;
  transcriber?: Transcriber;
  /** Milliseconds of synthesized audio per word (default 60). */
  speechMsPerWord?: number;
  /** When set, requests without `Authorization: Bearer <apiKey>` get 401. */
  apiKey?: string;
  /** Ids listed by `GET /v1/models`. */
  models?: string[];
}

/** A running OpenAI-compatible fake. Everything mutable may be changed between requests. */
export interface OpenAIServer {
  /** `http://127.0.0.1:PORT/v1`: pass as `baseURL` to the openai SDK or the LiveKit plugin. */
  readonly baseUrl: string;
  /** Every request, in arrival order, including refused and failed ones. */
  readonly requests: RecordedHttpRequest[];
  readonly latency: OpenAILatency;
  readonly embedding: EmbeddingSettings;
  /** One-shot chat replies, used first-in first-out before `chatResponder`. */
  readonly chatReplies: ChatReply[];
  /** One-shot transcripts, used first-in first-out before `transcriber`. */
  readonly transcripts: string[];
  chatResponder: ChatResponder;
  transcriber: Transcriber;
  speechMsPerWord: number;
  /** Makes the next request to `endpoint` fail with `fault` (faults queue up per endpoint). */
  failNext(endpoint: OpenAIEndpoint, fault: HttpFault): void;
  /** Recorded requests whose path ends with `pathSuffix`, e.g. `/chat/completions`. */
  requestsTo(pathSuffix: string): RecordedHttpRequest[];
  /** Parsed bodies of every chat request so far. */
  chatBodies(): ChatCompletionBody[];
  close(): Promise<void>;
}

/**
 * Starts an OpenAI-compatible server on 127.0.0.1 (random port): chat completions
 * (streamed or not, text and tool calls), embeddings (float and base64), audio
 * transcription and speech, and the model list.
 *
 * @example
 * const openai = await startOpenAIServer({ latency: { chatFirstToken: 450 } });
 * openai.chatReplies.push({ toolCalls: [{ name: 'lookup', arguments: { code: 'blue' } }] }, { text: 'It is 4417.' });
 * const client = new OpenAI({ baseURL: openai.baseUrl, apiKey: 'fake-key' });
 */
export async function startOpenAIServer(options: OpenAIServerOptions = {}): Promise<OpenAIServer> {
  const faults = new Map<OpenAIEndpoint, HttpFault[]>();
  const counters = { chat: 0, transcription: 0, toolCall: 0 };
  const models = options.models ?? [
    'gpt-4.1-mini',
    'gpt-4o-mini',
    'text-embedding-3-small',
    'gpt-4o-mini-transcribe',
    'whisper-1',
    'gpt-4o-mini-tts',
    'tts-1',
  ];
  const fake: Omit<OpenAIServer, 'baseUrl' | 'close'> = {
    requests: [],
    latency: {
      chatFirstToken: 0,
      chatTokenInterval: 0,
      embeddings: 0,
      speechFirstByte: 0,
      transcription: 0,
      ...options.latency,
    },
    embedding: {
      dimensions: options.embeddingDimensions ?? 1536,
      synonyms: options.synonyms ?? [],
      ...(options.embedOverride ? { override: options.embedOverride } : {}),
    },
    chatReplies: [],
    transcripts: [],
    chatResponder: options.chatResponder ?? echoResponder,
    transcriber: options.transcriber ?? numberedTranscriber,
    speechMsPerWord: options.speechMsPerWord ?? 60,
    failNext(endpoint, fault) {
      faults.set(endpoint, [...(faults.get(endpoint) ?? []), fault]);
    },
    requestsTo(pathSuffix) {
      return fake.requests.filter((request) => request.path.endsWith(pathSuffix));
    },
    chatBodies() {
      return fake.requestsTo('/chat/completions').map((request) => request.body as ChatCompletionBody);
    },
  };

  /** Applies a fault that acts before any byte of the reply; returns whether it did. */
  async function failEarly(response: ServerResponse, fault: HttpFault | undefined, signal: AbortSignal) {
    if (!fault) return false;
    if (fault.kind === 'status') sendJson(response, fault.status, openAIErrorBody(fault));
    else if ((fault.afterChunks ?? 0) > 0) return false;
    else if (fault.kind === 'drop') response.socket?.destroy();
    else await untilAborted(signal);
    return true;
  }

  const http: FakeHttpServer = await startHttpServer(async (request, response, { signal }) => {
    const recorded = await recordRequest(request);
    fake.requests.push(recorded);
    const endpoint = endpointPaths[`${recorded.method} ${recorded.path}`];
    if (options.apiKey !== undefined && request.headers.authorization !== `Bearer ${options.apiKey}`) {
      return sendJson(
        response,
        401,
        openAIErrorBody({ kind: 'status', status: 401, code: 'invalid_api_key' }),
      );
    }
    if (!endpoint) {
      const message = `Unknown request URL: ${recorded.method} ${recorded.path}.`;
      return sendJson(response, 404, openAIErrorBody({ kind: 'status', status: 404, message }));
    }
    const fault = faults.get(endpoint)?.shift();
    if (endpoint !== 'chat' && (await failEarly(response, fault, signal))) return;
    const body = recorded.body;
    switch (endpoint) {
      case 'models':
        return sendJson(response, 200, {
          object: 'list',
          data: models.map((id) => ({ id, object: 'model', created: 1_700_000_000, owned_by: 'fake' })),
        });
      case 'embeddings':
        return answerEmbeddings(response, body, fake, signal);
      case 'speech':
        return answerSpeech(
          response,
          body,
          { msPerWord: fake.speechMsPerWord, firstByteLatency: fake.latency.speechFirstByte },
          signal,
        );
      case 'transcription': {
        const index = counters.transcription++;
        const transcribe = async (input: TranscriptionRequest) =>
          fake.transcripts.shift() ?? fake.transcriber(input);
        return answerTranscription(response, recorded, transcribe, index, fake.latency.transcription, signal);
      }
      case 'chat': {
        const problem = chatBodyProblem(body);
        if (problem)
          return sendJson(response, 400, openAIErrorBody({ kind: 'status', status: 400, message: problem }));
        const chatBody = body as ChatCompletionBody;
        const chatRequest = describeChatRequest(chatBody, counters.chat++);
        const scripted = fake.chatReplies.shift() ?? (await fake.chatResponder(chatRequest));
        const reply: ChatReply = fault ? { ...scripted, fault } : scripted;
        if (await failEarly(response, reply.fault, signal)) return;
        const writeOptions = {
          completionId: `chatcmpl-fake-${chatRequest.index + 1}`,
          nextToolCallId: () => `call_fake_${++counters.toolCall}`,
          firstTokenLatency: reply.firstTokenLatency ?? fake.latency.chatFirstToken,
          tokenInterval: fake.latency.chatTokenInterval,
          signal,
        };
        if (chatBody.stream === true) return streamChatReply(response, chatBody, reply, writeOptions);
        if (reply.fault) {
          // A non-streamed reply has no middle: a mid-stream fault acts before the reply.
          await failEarly(response, { kind: reply.fault.kind === 'drop' ? 'drop' : 'stall' }, signal);
          return;
        }
        await sleep(writeOptions.firstTokenLatency, signal);
        return sendJson(response, 200, chatCompletionObject(chatBody, reply, writeOptions));
      }
    }
  });

  // Assign onto the same object the handler reads, so tests' changes to it take effect.
  return Object.assign(fake, { baseUrl: `${http.origin}/v1`, close: () => http.close() });
}

async function answerEmbeddings(
  response: ServerResponse,
  body: unknown,
  fake: Pick<OpenAIServer, 'embedding' | 'latency'>,
  signal: AbortSignal,
): Promise<void> {
  const request = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const rawInput = request.input;
  const inputs = typeof rawInput === 'string' ? [rawInput] : Array.isArray(rawInput) ? rawInput : undefined;
  const badRequest = (message: string) =>
    sendJson(response, 400, openAIErrorBody({ kind: 'status', status: 400, message }));
  if (typeof request.model !== 'string') return badRequest('you must provide a model parameter');
  if (!inputs || inputs.length === 0) return badRequest("'input' must be a string or a non-empty array");
  const format = request.encoding_format ?? 'float';
  if (format !== 'float' && format !== 'base64')
    return badRequest(`unsupported encoding_format '${String(format)}'`);
  const dimensions = typeof request.dimensions === 'number' ? request.dimensions : fake.embedding.dimensions;
  // Token-id arrays are embedded by their digits: stable, and distinct from one another.
  const texts = inputs.map((input) => (typeof input === 'string' ? input : JSON.stringify(input)));
  const vectors = texts.map((text) => embedText(text, fake.embedding, dimensions));
  await sleep(fake.latency.embeddings, signal);
  const tokens = texts.reduce((total, text) => total + wordsOf(text).length, 0);
  sendJson(response, 200, {
    object: 'list',
    data: vectors.map((vector, index) => ({
      object: 'embedding',
      index,
      embedding: format === 'base64' ? embeddingToBase64(vector) : vector,
    })),
    model: request.model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  });
}
