import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { RawData, WebSocket } from 'ws';
import { CloseCode, type ClientMessage, type ServerMessage } from '../../protocol/index.ts';
import type { ConversationChannel, LiveConversation, StartConversation } from './conversation.ts';
import type { ConversationRegistry } from './conversation-registry.ts';
import { SocketBudgets, type Overrun } from './socket-budget.ts';
import { audioFrameProblem, closeReason, parseClientMessage } from './socket-messages.ts';

/** How long a new socket may stay silent before its `hello`, in ms. */
export const HELLO_TIMEOUT_MS = 10_000;
/** How long a closing socket may take to finish the close handshake before it is cut, in ms. */
export const CLOSE_GRACE_MS = 2000;
/**
 * Agent audio the server keeps waiting for a client that does not read, in bytes (about
 * 20 s at 24 kHz): past it, new audio is dropped rather than held in memory. Audio that
 * late is of no use to the listener anyway.
 */
export const MAX_UNSENT_AUDIO_BYTES = 1024 * 1024;

export interface DirectSocketOptions {
  socket: WebSocket;
  /** The user behind the socket's browser identity (resolved once the client says hello). */
  resolveUserId: () => Promise<string>;
  startConversation: StartConversation;
  registry: ConversationRegistry;
  logger?: Logger;
  helloTimeoutMs?: number;
}

type State = 'awaiting-hello' | 'starting' | 'live' | 'closed';

/**
 * Serves one direct-mode WebSocket (protocol in protocol/direct-socket.ts): waits for `hello`,
 * starts a conversation, then carries microphone audio and JSON messages in, and agent
 * audio and events out. A protocol violation closes this socket alone with 1008 and a
 * reason; closing the socket ends its conversation.
 */
export function serveDirectSocket(options: DirectSocketOptions): void {
  const { socket, registry, logger } = options;
  const sessionId = randomUUID();
  let state: State = 'awaiting-hello';
  let captureSampleRate = 0;
  let conversation: LiveConversation | undefined;
  let pending: ClientMessage[] = [];
  let outputSampleRate: number | undefined;
  let cameraErrorShown = false;
  // Once a close is decided, nothing more the client sends is acted on.
  let closing = false;
  const budgets = new SocketBudgets();
  let ended: Promise<void> = Promise.resolve();
  let markClosed: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => (markClosed = resolve));

  const send = (message: ServerMessage) => {
    if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
  };
  const channel: ConversationChannel = {
    send,
    sendAudio(samples, sampleRate) {
      if (socket.readyState !== socket.OPEN) return;
      if (sampleRate !== outputSampleRate) {
        outputSampleRate = sampleRate;
        send({ type: 'audio_format', sampleRate });
      }
      if (socket.bufferedAmount > MAX_UNSENT_AUDIO_BYTES) return;
      socket.send(Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength), { binary: true });
    },
    end(message) {
      // Gone already: closing the socket must not close it again.
      conversation = undefined;
      send({ type: 'error', message });
      void disconnect(CloseCode.internalError, 'the conversation stopped');
    },
  };
  const disconnect = async (code: number, reason: string) => {
    closing = true;
    if (socket.readyState === socket.OPEN || socket.readyState === socket.CONNECTING) {
      socket.close(code, closeReason(reason));
      setTimeout(() => socket.terminate(), CLOSE_GRACE_MS).unref();
    }
    await closed;
    await ended;
  };
  const violate = (reason: string) => {
    logger?.info({ sessionId, reason }, 'closing a direct socket that broke the protocol');
    void disconnect(CloseCode.policyViolation, reason);
  };
  const overrun = ({ reason, message }: Overrun) => {
    logger?.warn({ sessionId, reason }, 'closing a direct socket that sent over its budget');
    send({ type: 'error', message });
    void disconnect(CloseCode.overBudget, reason);
  };
  const helloTimer = setTimeout(
    () => violate('expected a hello message first'),
    options.helloTimeoutMs ?? HELLO_TIMEOUT_MS,
  );

  const handle = (message: ClientMessage) => {
    const live = conversation as LiveConversation;
    if (message.type === 'text') live.sendText(message.text);
    else if (message.type === 'camera_off') live.hideCamera();
    else if (message.type === 'camera_frame') {
      live.showCameraFrame(Buffer.from(message.jpeg, 'base64')).catch((error: unknown) => {
        logger?.warn({ err: error, sessionId }, 'unreadable camera frame');
        if (!cameraErrorShown) send({ type: 'error', message: 'A camera picture could not be read.' });
        cameraErrorShown = true;
      });
    }
  };

  const begin = async () => {
    try {
      const userId = await options.resolveUserId();
      const started = await options.startConversation(userId, channel);
      if (state === 'closed') {
        await started.close();
        return;
      }
      conversation = started;
      state = 'live';
      registry.add({ sessionId, userId, conversation: started, send, disconnect });
      send({ type: 'ready', sessionId, conversationId: started.conversationId });
      for (const message of pending) handle(message);
      pending = [];
    } catch (error) {
      logger?.error({ err: error, sessionId }, 'could not start a conversation');
      send({ type: 'error', message: 'The conversation could not start. Please try again in a moment.' });
      void disconnect(CloseCode.internalError, 'could not start the conversation');
    }
  };

  const receive = (data: RawData, isBinary: boolean) => {
    // The rest of a flood, or what follows a violation: dropped, never queued.
    if (closing) return;
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    if (isBinary) {
      if (state === 'awaiting-hello') return violate('audio arrived before the hello message');
      const problem = audioFrameProblem(bytes.length, captureSampleRate);
      if (problem) return violate(problem);
      const over = budgets.audioSamples(bytes.length / 2);
      if (over) return overrun(over);
      // Audio arriving while the conversation starts has nobody to hear it.
      if (state !== 'live' || !conversation) return;
      // A copy: aligned for Int16Array, and independent of the socket's buffers.
      const samples = new Int16Array(bytes.length / 2);
      Buffer.from(samples.buffer).set(bytes);
      conversation.pushAudio(samples, captureSampleRate);
      return;
    }
    const parsed = parseClientMessage(bytes.toString('utf8'));
    if (!parsed.ok) return violate(parsed.reason);
    const message = parsed.message;
    const over = budgets.message(message.type);
    if (over) return overrun(over);
    if (message.type === 'hello') {
      if (state !== 'awaiting-hello') return violate('hello was already received');
      clearTimeout(helloTimer);
      captureSampleRate = message.sampleRate;
      budgets.startAudio(captureSampleRate);
      state = 'starting';
      void begin();
    } else if (state === 'awaiting-hello') {
      violate('expected a hello message first');
    } else if (state === 'starting') {
      pending.push(message);
    } else if (state === 'live') {
      handle(message);
    }
  };

  socket.on('message', (data, isBinary) => {
    try {
      receive(data, isBinary);
    } catch (error) {
      logger?.error({ err: error, sessionId }, 'direct socket message failed');
      void disconnect(CloseCode.internalError, 'internal error');
    }
  });
  socket.on('error', (error) => logger?.warn({ err: error, sessionId }, 'direct socket error'));
  socket.on('close', () => {
    clearTimeout(helloTimer);
    state = 'closed';
    registry.remove(sessionId);
    const finished = conversation;
    conversation = undefined;
    if (finished) {
      ended = finished
        .close()
        .catch((error: unknown) => logger?.error({ err: error, sessionId }, 'could not end a conversation'));
    }
    markClosed();
  });
}
