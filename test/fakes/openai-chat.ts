import type { HttpFault } from './faults.ts';

/**
 * The chat-completions half of the OpenAI fake: what a request looks like to a
 * responder, what a responder may answer, and how image parts are decoded.
 */

/** A content part of a chat message, as OpenAI-compatible clients send it. */
export interface ChatContentPart {
  type: string;
  text?: string;
  image_url?: { url: string; detail?: string };
}

/** A chat message as received (only the fields the fake looks at are typed). */
export interface ChatMessage {
  role: string;
  content?: string | ChatContentPart[] | null;
  tool_calls?: { id: string; type: string; function: { name: string; arguments: string } }[];
  tool_call_id?: string;
  [key: string]: unknown;
}

/** A chat-completions request body as received (only the fields the fake looks at are typed). */
export interface ChatCompletionBody {
  model: string;
  messages: ChatMessage[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  tools?: { type: string; function: { name: string; description?: string; parameters?: unknown } }[];
  [key: string]: unknown;
}

/** An image sent in a chat request, decoded from its data URL. */
export interface ChatImage {
  /** e.g. `image/png`; empty for remote (non-data) URLs. */
  mimeType: string;
  /** The decoded bytes; empty for remote URLs. */
  bytes: Buffer;
  url: string;
  detail?: string;
  /** Index of the message that carried the image. */
  messageIndex: number;
}

/** What a responder sees: the body plus the parts tests ask about most. */
export interface ChatRequest {
  body: ChatCompletionBody;
  /** Text of the last user message (text parts joined with a space). */
  lastUserText: string;
  /** Names of the tools offered (an empty list when `tools` is `[]` or absent). */
  toolNames: string[];
  /** Images in the request, decoded. */
  images: ChatImage[];
  /** The result of the last tool call, when the last message is a `tool` message. */
  toolResult?: string;
  /** 0 for the first chat request this server received, then 1, 2... */
  index: number;
}

/** A tool call the fake makes the model emit. */
export interface ScriptedToolCall {
  name: string;
  /** JSON text, or an object the fake serialises. */
  arguments: string | Record<string, unknown>;
  /** Defaults to `call_fake_<n>`. */
  id?: string;
}

/** What the fake model answers. Text and tool calls may be combined, as real models do. */
export interface ChatReply {
  text?: string;
  /** Exact deltas to stream; by default `text` is split at word boundaries. */
  chunks?: string[];
  toolCalls?: ScriptedToolCall[];
  /** Fail instead of (or, for `drop`/`stall` with `afterChunks`, in the middle of) answering. */
  fault?: HttpFault;
  /** Overrides the server's first-token latency for this reply, in milliseconds. */
  firstTokenLatency?: number;
  /** Defaults to `tool_calls` when there are tool calls, else `stop`. */
  finishReason?: string;
}

/** Decides a reply from a request; tests replace it freely. */
export type ChatResponder = (request: ChatRequest) => ChatReply | Promise<ChatReply>;

/**
 * The default responder: answers a tool result with "Done." and anything else by
 * echoing the user, so a test that forgot to script a reply still sees traffic.
 */
export const echoResponder: ChatResponder = (request) =>
  request.toolResult !== undefined ? { text: 'Done.' } : { text: `You said: ${request.lastUserText}` };

/** Checks the minimum shape of a chat body; returns an error message when it is unusable. */
export function chatBodyProblem(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return 'expected a JSON body';
  const candidate = body as Partial<ChatCompletionBody>;
  if (typeof candidate.model !== 'string') return 'you must provide a model parameter';
  if (!Array.isArray(candidate.messages) || candidate.messages.length === 0)
    return "'messages' must be a non-empty array";
  return undefined;
}

/** The text parts of a message's content, joined with a space. */
export function messageText(message: ChatMessage | undefined): string {
  const content = message?.content;
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .filter((part) => part.type === 'text' && typeof part.text === 'string')
    .map((part) => part.text)
    .join(' ');
}

/** Every image part of a chat body, decoded from its data URL. */
export function imagesInChatBody(body: ChatCompletionBody): ChatImage[] {
  const images: ChatImage[] = [];
  body.messages.forEach((message, messageIndex) => {
    if (!Array.isArray(message.content)) return;
    for (const part of message.content) {
      if (part.type !== 'image_url' || !part.image_url) continue;
      const { url, detail } = part.image_url;
      const match = /^data:([^;,]*)(;base64)?,(.*)$/s.exec(url);
      const mimeType = match?.[1] ?? '';
      const payload = match?.[3] ?? '';
      const bytes = !match
        ? Buffer.alloc(0)
        : match[2]
          ? Buffer.from(payload, 'base64')
          : Buffer.from(decodeURIComponent(payload), 'utf8');
      images.push({ mimeType, bytes, url, messageIndex, ...(detail === undefined ? {} : { detail }) });
    }
  });
  return images;
}

/** Builds what a responder sees from a validated body. */
export function describeChatRequest(body: ChatCompletionBody, index: number): ChatRequest {
  const lastUser = [...body.messages].reverse().find((message) => message.role === 'user');
  const last = body.messages.at(-1);
  return {
    body,
    index,
    lastUserText: messageText(lastUser),
    toolNames: (body.tools ?? []).map((tool) => tool.function.name),
    images: imagesInChatBody(body),
    ...(last?.role === 'tool' ? { toolResult: messageText(last) } : {}),
  };
}
