import type { ServerResponse } from 'node:http';
import { wordsOf } from './audio-signal.ts';
import type { ChatCompletionBody, ChatReply } from './openai-chat.ts';
import { messageText } from './openai-chat.ts';
import { sleep, untilAborted } from './timing.ts';

/**
 * Turns a scripted reply into OpenAI's wire format: `chat.completion.chunk` events over
 * server-sent events, or one `chat.completion` object. Chunk shapes follow what
 * api.openai.com sends, including `usage: null` on every chunk and a final usage
 * chunk with empty `choices` when `stream_options.include_usage` is set.
 */

/** Identity and timing of one completion. */
export interface ChatWriteOptions {
  completionId: string;
  /** Hands out tool call ids (`call_fake_1`...) in order across the server's life. */
  nextToolCallId: () => string;
  /** Milliseconds before the first chunk (or the whole non-streamed reply). */
  firstTokenLatency: number;
  /** Milliseconds between chunks after the first. */
  tokenInterval: number;
  signal: AbortSignal;
}

/** Rough token counts (one per word), good enough for usage plumbing tests. */
function usageOf(body: ChatCompletionBody, reply: ChatReply): Record<string, unknown> {
  const promptTokens = body.messages.reduce(
    (total, message) => total + wordsOf(messageText(message)).length,
    0,
  );
  const argumentText = (reply.toolCalls ?? []).map((call) => JSON.stringify(call.arguments)).join(' ');
  const completionTokens = wordsOf(reply.text ?? '').length + Math.ceil(argumentText.length / 4);
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0 },
  };
}

/** Splits text into deltas that each start with their leading space, as model tokens do. */
export function textDeltas(text: string): string[] {
  return text.match(/\s*\S+\s*$|\s*\S+/g) ?? (text ? [text] : []);
}

function argumentsText(argumentsValue: string | Record<string, unknown>): string {
  return typeof argumentsValue === 'string' ? argumentsValue : JSON.stringify(argumentsValue);
}

function finishReasonOf(reply: ChatReply): string {
  return reply.finishReason ?? ((reply.toolCalls?.length ?? 0) > 0 ? 'tool_calls' : 'stop');
}

/** The `choices[0].delta` payloads of a streamed reply, in order, before the finishing chunk. */
function streamedDeltas(reply: ChatReply, nextToolCallId: () => string): Record<string, unknown>[] {
  const deltas: Record<string, unknown>[] = [{ role: 'assistant', content: '', refusal: null }];
  for (const content of reply.chunks ?? textDeltas(reply.text ?? '')) deltas.push({ content });
  (reply.toolCalls ?? []).forEach((call, index) => {
    // OpenAI sends id, type and name first with empty arguments, then arguments in pieces.
    deltas.push({
      tool_calls: [
        {
          index,
          id: call.id ?? nextToolCallId(),
          type: 'function',
          function: { name: call.name, arguments: '' },
        },
      ],
    });
    const text = argumentsText(call.arguments);
    for (let start = 0; start < text.length; start += 12) {
      deltas.push({ tool_calls: [{ index, function: { arguments: text.slice(start, start + 12) } }] });
    }
  });
  return deltas;
}

/** Every event of a streamed reply, `[DONE]` excluded. */
export function chatCompletionChunks(
  body: ChatCompletionBody,
  reply: ChatReply,
  options: Pick<ChatWriteOptions, 'completionId' | 'nextToolCallId'>,
): Record<string, unknown>[] {
  const includeUsage = body.stream_options?.include_usage === true;
  const base: Record<string, unknown> = {
    id: options.completionId,
    object: 'chat.completion.chunk',
    created: Math.floor(Date.now() / 1000),
    model: body.model,
    service_tier: 'default',
    system_fingerprint: 'fp_fake',
    ...(includeUsage ? { usage: null } : {}),
  };
  const chunks: Record<string, unknown>[] = streamedDeltas(reply, options.nextToolCallId).map((delta) => ({
    ...base,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: null }],
  }));
  chunks.push({
    ...base,
    choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: finishReasonOf(reply) }],
  });
  if (includeUsage) chunks.push({ ...base, choices: [], usage: usageOf(body, reply) });
  return chunks;
}

/** The whole reply as one `chat.completion` object. */
export function chatCompletionObject(
  body: ChatCompletionBody,
  reply: ChatReply,
  options: Pick<ChatWriteOptions, 'completionId' | 'nextToolCallId'>,
): Record<string, unknown> {
  const toolCalls = (reply.toolCalls ?? []).map((call) => ({
    id: call.id ?? options.nextToolCallId(),
    type: 'function',
    function: { name: call.name, arguments: argumentsText(call.arguments) },
  }));
  return {
    id: options.completionId,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: body.model,
    system_fingerprint: 'fp_fake',
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: reply.text ?? (reply.chunks ? reply.chunks.join('') : null),
          refusal: null,
          annotations: [],
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
        },
        logprobs: null,
        finish_reason: finishReasonOf(reply),
      },
    ],
    usage: usageOf(body, reply),
  };
}

/**
 * Streams a reply as server-sent events, honouring latencies and a mid-stream
 * `drop` or `stall` fault (`afterChunks` counts events already written).
 */
export async function streamChatReply(
  response: ServerResponse,
  body: ChatCompletionBody,
  reply: ChatReply,
  options: ChatWriteOptions,
): Promise<void> {
  const chunks = chatCompletionChunks(body, reply, options);
  const fault = reply.fault?.kind === 'drop' || reply.fault?.kind === 'stall' ? reply.fault : undefined;
  await sleep(options.firstTokenLatency, options.signal);
  response.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'x-request-id': `req_${options.completionId}`,
  });
  for (const [index, chunk] of chunks.entries()) {
    if (fault && index === (fault.afterChunks ?? 0)) {
      if (fault.kind === 'drop') {
        response.socket?.destroy();
        return;
      }
      await untilAborted(options.signal);
    }
    if (index > 0) await sleep(options.tokenInterval, options.signal);
    // Wait for each write to reach the socket, so a later `drop` cannot discard it.
    await new Promise<void>((resolve, reject) =>
      response.write(`data: ${JSON.stringify(chunk)}\n\n`, (error) => (error ? reject(error) : resolve())),
    );
  }
  response.end('data: [DONE]\n\n');
}
