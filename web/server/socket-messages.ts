import { z } from 'zod';
import {
  MAX_AUDIO_FRAME_MS,
  MAX_CAMERA_FRAME_BYTES,
  MAX_CAPTURE_SAMPLE_RATE,
  MAX_TEXT_LENGTH,
  MIN_CAPTURE_SAMPLE_RATE,
  PROTOCOL_VERSION,
  type ClientMessage,
} from '../../protocol/index.ts';

/** Base64 grows 4 characters per 3 bytes. */
const MAX_CAMERA_BASE64_LENGTH = Math.ceil(MAX_CAMERA_FRAME_BYTES / 3) * 4;

const clientMessageSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('hello'),
    protocol: z.literal(PROTOCOL_VERSION),
    sampleRate: z.number().int().min(MIN_CAPTURE_SAMPLE_RATE).max(MAX_CAPTURE_SAMPLE_RATE),
  }),
  z.strictObject({ type: z.literal('text'), text: z.string().trim().min(1).max(MAX_TEXT_LENGTH) }),
  z.strictObject({
    type: z.literal('camera_frame'),
    jpeg: z
      .string()
      .min(1)
      .max(MAX_CAMERA_BASE64_LENGTH)
      .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'expected base64'),
  }),
  z.strictObject({ type: z.literal('camera_off') }),
]);

// A compile-time check that the schema and the shared protocol type agree.
type Parsed = z.infer<typeof clientMessageSchema>;
const _agrees: [Parsed extends ClientMessage ? true : false, ClientMessage extends Parsed ? true : false] = [
  true,
  true,
];

/** A client message, or why it was refused (a WebSocket close reason, at most 123 bytes). */
export type ParsedClientMessage = { ok: true; message: ClientMessage } | { ok: false; reason: string };

/** Parses one JSON text frame from the client. */
export function parseClientMessage(text: string): ParsedClientMessage {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'malformed message: not JSON' };
  }
  const result = clientMessageSchema.safeParse(json);
  if (result.success) return { ok: true, message: result.data };
  const issue = result.error.issues[0];
  const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
  return { ok: false, reason: closeReason(`malformed message${where}: ${issue?.message ?? 'invalid'}`) };
}

/**
 * Checks a binary audio frame: whole 16-bit samples, and no longer than
 * {@link MAX_AUDIO_FRAME_MS} at the stated rate. Returns the problem, or undefined.
 */
export function audioFrameProblem(byteLength: number, sampleRate: number): string | undefined {
  if (byteLength === 0) return 'empty audio frame';
  if (byteLength % 2 !== 0) return 'audio frame is not whole 16-bit samples';
  if (byteLength / 2 > (sampleRate * MAX_AUDIO_FRAME_MS) / 1000)
    return `audio frame longer than ${MAX_AUDIO_FRAME_MS} ms`;
  return undefined;
}

/** WebSocket close reasons are limited to 123 bytes of UTF-8. */
export function closeReason(reason: string): string {
  let cut = reason;
  while (Buffer.byteLength(cut) > 123) cut = cut.slice(0, -1);
  return cut;
}
