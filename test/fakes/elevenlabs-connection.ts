import type { IncomingHttpHeaders } from 'node:http';
import type { RawData, WebSocket } from 'ws';
import { pcmDuration, pcmToBytes, toneForText } from './audio-signal.ts';
import type { SocketFault } from './faults.ts';
import { now, sleep } from './timing.ts';

/**
 * One multi-stream-input connection of the ElevenLabs fake: contexts, text buffering,
 * audio generation with character alignment, and `isFinal`. Message shapes follow
 * what `@livekit/agents-plugin-elevenlabs@1.9.0` sends and reads.
 */

/** Knobs of the ElevenLabs fake; tests may change them at any time. */
export interface ElevenLabsSettings {
  /** Milliseconds from the text that triggers a context's first audio to that audio (default 150). */
  firstAudioLatency: number;
  /** Milliseconds of audio per word (default 60). */
  msPerWord: number;
  /** Milliseconds of audio per `audio` message (default 100). */
  chunkDuration: number;
}

/** A fault of the ElevenLabs fake: the socket faults plus an error message in a context. */
export type ElevenLabsFault = SocketFault | { kind: 'error'; message: string };

/** One context (one utterance of the agent) within a connection. */
export interface ElevenLabsContext {
  id: string;
  /** All text received for this context, the opening `" "` excluded. */
  text: string;
  /** The text of each generation, in order (one per flush, buffer overflow or close). */
  segments: string[];
  voiceSettings?: unknown;
  generationConfig?: unknown;
  audioChunks: Buffer[];
  firstTextAt: number;
  firstAudioAt?: number;
  finalAt?: number;
  closed: boolean;
  /** The error the fake answered this context with, if a fault made it fail. */
  error?: string;
}

/** One WebSocket connection (or refused attempt) and everything that went over it. */
export interface ElevenLabsConnection {
  index: number;
  voiceId: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  openedAt: number;
  rejectedWith?: number;
  outputFormat: string;
  /** Hz, from `output_format` (`pcm_22050` gives 22050); 0 when the format is not PCM. */
  sampleRate: number;
  received: { message: Record<string, unknown>; receivedAt: number }[];
  sent: { message: Record<string, unknown>; sentAt: number }[];
  /** In order of opening; an id reused after `close_context` opens a new entry. */
  contexts: ElevenLabsContext[];
  closedAt?: number;
  closeCode?: number;
}

// ElevenLabs starts generating once this much text is buffered even without a flush
// (the top of its default chunk_length_schedule).
const maximumBufferedText = 290;

/** Audio and alignment messages for one generation; alignment times run on from `offset` ms. */
export function audioMessages(
  contextId: string,
  text: string,
  sampleRate: number,
  settings: ElevenLabsSettings,
  offset: number,
): { messages: Record<string, unknown>[]; pcm: Buffer; duration: number } {
  const pcm = pcmToBytes(toneForText(text, sampleRate, settings.msPerWord));
  const duration = pcmDuration(pcm.length / 2, sampleRate);
  const characters = [...text];
  const perCharacter = characters.length > 0 ? duration / characters.length : 0;
  const chunkBytes = Math.max(2, Math.round((settings.chunkDuration / 1000) * sampleRate) * 2);
  const messages: Record<string, unknown>[] = [];
  for (let start = 0; start < pcm.length; start += chunkBytes) {
    const chunkStart = pcmDuration(start / 2, sampleRate);
    const chunkEnd = pcmDuration(Math.min(pcm.length, start + chunkBytes) / 2, sampleRate);
    const indexes = characters
      .map((_, index) => index)
      .filter(
        (index) =>
          index * perCharacter >= chunkStart && (index * perCharacter < chunkEnd || chunkEnd === duration),
      );
    const alignment = {
      chars: indexes.map((index) => characters[index] ?? ''),
      charStartTimesMs: indexes.map((index) => Math.round(offset + index * perCharacter)),
      charDurationsMs: indexes.map(() => Math.round(perCharacter)),
    };
    messages.push({
      audio: pcm.subarray(start, start + chunkBytes).toString('base64'),
      isFinal: null,
      normalizedAlignment: alignment,
      alignment,
      contextId,
    });
  }
  return { messages, pcm, duration };
}

/** Drives one connection until it closes. */
export function serveElevenLabsConnection(
  socket: WebSocket,
  connection: ElevenLabsConnection,
  settings: ElevenLabsSettings,
  fault: ElevenLabsFault | undefined,
  closing: AbortSignal,
): void {
  // Per-context generation state; a context id reused after `close_context` starts afresh.
  const states = new Map<ElevenLabsContext, { chain: Promise<void>; offset: number; pending: string }>();
  const open = new Map<string, ElevenLabsContext>();
  let received = 0;
  let muted = fault?.kind === 'stall';

  const send = (message: Record<string, unknown>) => {
    if (socket.readyState !== socket.OPEN) return;
    socket.send(JSON.stringify(message));
    connection.sent.push({ message, sentAt: now() });
  };
  const speak = async (context: ElevenLabsContext, text: string, triggeredAt: number) => {
    const state = states.get(context);
    if (!state) return;
    if (context.firstAudioAt === undefined)
      await sleep(triggeredAt + settings.firstAudioLatency - now(), closing);
    const generated = audioMessages(context.id, text, connection.sampleRate, settings, state.offset);
    state.offset += generated.duration;
    context.segments.push(text);
    context.audioChunks.push(generated.pcm);
    for (const message of generated.messages) {
      send(message);
      context.firstAudioAt ??= now();
    }
  };
  /** Queues generation of the buffered text behind the context's earlier generations. */
  const generate = (context: ElevenLabsContext, then?: () => void) => {
    const state = states.get(context);
    if (!state) return Promise.resolve();
    const text = state.pending;
    const triggeredAt = now();
    state.pending = '';
    state.chain = state.chain
      .then(() => (text.trim() ? speak(context, text, triggeredAt) : undefined))
      .then(then)
      .catch(() => undefined);
    return state.chain;
  };
  const finish = (context: ElevenLabsContext) => {
    context.closed = true;
    open.delete(context.id);
    return generate(context, () => {
      context.finalAt = now();
      send({ isFinal: true, contextId: context.id });
    });
  };
  const openContext = (id: string): ElevenLabsContext => {
    const context: ElevenLabsContext = {
      id,
      text: '',
      segments: [],
      audioChunks: [],
      firstTextAt: now(),
      closed: false,
    };
    connection.contexts.push(context);
    open.set(id, context);
    states.set(context, { chain: Promise.resolve(), offset: 0, pending: '' });
    return context;
  };

  const onMessage = async (message: Record<string, unknown>) => {
    if (message.close_socket === true) {
      await Promise.all([...open.values()].map(finish));
      socket.close(1000);
      return;
    }
    const id = typeof message.context_id === 'string' ? message.context_id : 'default';
    const existing = open.get(id);
    const context = existing ?? openContext(id);
    const state = states.get(context);
    if (message.voice_settings !== undefined) context.voiceSettings = message.voice_settings;
    if (message.generation_config !== undefined) context.generationConfig = message.generation_config;
    if (!state || context.error !== undefined) return;
    if (fault?.kind === 'error' && !existing) {
      // Like the real service, a context that failed produces nothing more.
      context.error = fault.message;
      return send({ error: 'fake_error', message: fault.message, contextId: id });
    }
    // The first message of a context is " " by protocol: it opens the context, it is not speech.
    if (typeof message.text === 'string' && !(!existing && message.text === ' ')) {
      context.text += message.text;
      state.pending += message.text;
    }
    if (message.close_context === true) return void finish(context);
    if (message.flush === true || state.pending.length >= maximumBufferedText) void generate(context);
  };

  socket.on('message', (data: RawData, isBinary: boolean) => {
    if (socket.readyState !== socket.OPEN) return;
    received += 1;
    const closeNow = fault?.kind === 'close' && received >= (fault.afterMessages ?? 0);
    muted ||= closeNow;
    const text = Buffer.isBuffer(data) ? data.toString('utf8') : String(data);
    let message: Record<string, unknown>;
    try {
      message = isBinary ? { binary: text } : (JSON.parse(text) as Record<string, unknown>);
    } catch {
      message = { invalid: text };
    }
    connection.received.push({ message, receivedAt: now() });
    if (!muted) void onMessage(message);
    if (closeNow && fault.kind === 'close') socket.close(fault.code, fault.reason ?? 'fake failure');
  });
  socket.on('close', (code: number) => Object.assign(connection, { closedAt: now(), closeCode: code }));
  if (fault?.kind === 'close' && (fault.afterMessages ?? 0) === 0)
    socket.close(fault.code, fault.reason ?? 'fake failure');
}
