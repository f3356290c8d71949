import type { ReceivedFile, UploadReceipt } from '../../agent/conversation-uploads.ts';
import type { Config } from '../../config/load.ts';
import type { RemoteDatabaseDescription } from '../../db/remote-database.ts';
import { MediaError, type MediaErrorCode } from '../../media/errors.ts';
import { AppError, type ServerMessage } from '../../protocol/index.ts';

/**
 * What the web server and its conversation processes say to each other over Node's IPC
 * channel (advanced serialization: typed arrays and Buffers cross as they are). The
 * server is the parent (web/server/conversation-pool.ts), each conversation process a
 * child (web/server/conversation-host.ts); database requests share the channel
 * (db/remote-database.ts).
 */

/** Parent to child. */
export type ToConversationProcess =
  | {
      type: 'init';
      config: Config;
      /** The parent's embedded database, reached through it; null: open DATABASE_URL directly. */
      database: RemoteDatabaseDescription | null;
      name: string;
    }
  | { type: 'start'; requestId: number; sessionId: string; userId: string }
  | { type: 'audio'; sessionId: string; samples: Int16Array; sampleRate: number }
  | { type: 'text'; sessionId: string; text: string }
  | { type: 'camera'; requestId: number; sessionId: string; jpeg: Uint8Array }
  | { type: 'camera_off'; sessionId: string }
  | { type: 'file'; requestId: number; sessionId: string; file: ReceivedFile }
  | { type: 'voice'; requestId: number; sessionId: string; voiceId: string }
  | { type: 'close'; requestId: number; sessionId: string }
  /**
   * Its Prometheus metrics as JSON (prom-client's getMetricsAsJSON), and its CPU and
   * memory; `settle`: memory read after full collections when it runs with --expose-gc.
   */
  | { type: 'stats'; requestId: number; settle?: boolean }
  /** End every conversation (saved as usual), then exit. */
  | { type: 'shutdown' };

/** A conversation process's CPU time and memory, for the capacity bench. */
export interface ProcessStats {
  cpu: NodeJS.CpuUsage;
  rss: number;
  metrics: object[];
}

/** What a request answers with: a started conversation's id, an upload's receipt, stats. */
export type ReplyValue = { conversationId: string } | UploadReceipt | ProcessStats;

/** Child to parent. */
export type FromConversationProcess =
  /** The voice models are loaded: conversations can start. */
  | { type: 'ready' }
  /** It cannot run conversations (the message says why); it exits after this. */
  | { type: 'failed'; message: string }
  | { type: 'reply'; requestId: number; ok: true; value?: ReplyValue }
  | { type: 'reply'; requestId: number; ok: false; error: WireError }
  | { type: 'send'; sessionId: string; message: ServerMessage }
  | { type: 'audio'; sessionId: string; samples: Int16Array; sampleRate: number };

/** An error as it crosses the channel: enough to rebuild what the routes test for. */
export interface WireError {
  name: string;
  message: string;
  /** Set for our errors (AppError): their code and whether people may read the message. */
  app?: { code: string; userFacing: boolean; retryable: boolean; media: boolean };
}

export function errorToWire(error: unknown): WireError {
  if (error instanceof AppError) {
    const { code, userFacing, retryable } = error;
    return {
      name: error.name,
      message: error.message,
      app: { code, userFacing, retryable, media: error instanceof MediaError },
    };
  }
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: 'Error', message: String(error) };
}

/** The error again, as the class the upload and voice routes check for (MediaError, AppError). */
export function errorFromWire(wire: WireError): Error {
  let error: Error;
  if (wire.app?.media) error = new MediaError(wire.app.code as MediaErrorCode, wire.message);
  else if (wire.app)
    error = new AppError(wire.app.code, wire.message, {
      userFacing: wire.app.userFacing,
      retryable: wire.app.retryable,
    });
  else error = new Error(wire.message);
  error.name = wire.name;
  return error;
}

/**
 * Samples received over the channel in an array of their own: a deserialised typed array
 * is a view into the whole message's buffer (at any offset), and parts of the audio
 * pipeline read a frame's `.buffer` from its start.
 */
export function ownSamples(samples: Int16Array): Int16Array {
  return samples.byteOffset === 0 && samples.buffer.byteLength === samples.byteLength
    ? samples
    : samples.slice();
}
