import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import { pcmToBytes, toneForText } from './audio-signal.ts';
import type { ElevenLabsConnection, ElevenLabsFault, ElevenLabsSettings } from './elevenlabs-connection.ts';
import { serveElevenLabsConnection } from './elevenlabs-connection.ts';
import type { RecordedHttpRequest } from './http-server.ts';
import { recordRequest, rejectUpgrade, sendJson, startHttpServer } from './http-server.ts';
import { now, sleep, untilAborted } from './timing.ts';
import { answerVoiceList, DEFAULT_FAKE_VOICES, type ElevenLabsVoice } from './elevenlabs-voices.ts';

export { DEFAULT_FAKE_VOICES, type ElevenLabsVoice } from './elevenlabs-voices.ts';

export type {
  ElevenLabsConnection,
  ElevenLabsContext,
  ElevenLabsFault,
  ElevenLabsSettings,
} from './elevenlabs-connection.ts';

export interface ElevenLabsServerOptions extends Partial<ElevenLabsSettings> {
  /** When set, requests without the header `xi-api-key: <apiKey>` are refused with 401. */
  apiKey?: string;
  /** The voice library `GET /v1/voices` and `/v2/voices` list (default {@link DEFAULT_FAKE_VOICES}). */
  voices?: ElevenLabsVoice[];
}

/** A running fake of ElevenLabs' text-to-speech API. */
export interface ElevenLabsServer {
  /** `ws://127.0.0.1:PORT`, the same shape as the real default `wss://api.elevenlabs.io`. */
  readonly baseUrl: string;
  /** `http://127.0.0.1:PORT/v1`: what the LiveKit plugin's `baseURL` option takes (it includes `/v1`). */
  readonly apiBaseUrl: string;
  readonly connections: ElevenLabsConnection[];
  /** HTTP requests (`/v1/text-to-speech/{voice}[/stream]`, `/v1/voices`, `/v2/voices`). */
  readonly requests: RecordedHttpRequest[];
  readonly settings: ElevenLabsSettings;
  /** The voice library the voice list serves; change it freely between requests. */
  voices: ElevenLabsVoice[];
  /** Makes the next voice list request fail with `status` (default 500; they queue up). */
  failNextVoiceList(status?: number): void;
  /** Makes the next connection (or HTTP synthesis) fail with `fault` (faults queue up). */
  failNextConnection(fault: ElevenLabsFault): void;
  /** Closes every open connection with `code` (default 1011), as a service failing mid-stream. */
  dropConnections(code?: number, reason?: string): void;
  close(): Promise<void>;
}

const multiStreamPath = /^\/v1\/text-to-speech\/([^/]+)\/multi-stream-input$/;
const httpSpeechPath = /^\/v1\/text-to-speech\/([^/]+)(\/stream)?$/;

/** The sample rate of a PCM `output_format` such as `pcm_22050`; `undefined` for anything else. */
export function pcmSampleRate(outputFormat: string): number | undefined {
  const match = /^pcm_(8000|16000|22050|24000|44100|48000)$/.exec(outputFormat);
  return match ? Number(match[1]) : undefined;
}

/**
 * Starts an ElevenLabs fake on 127.0.0.1 (random port): the multi-stream-input
 * WebSocket the LiveKit plugin streams through, plus HTTP synthesis and the voice library
 * (`GET /v1/voices`, `GET /v2/voices` paged, in the real API's JSON shapes).
 * Audio is a deterministic tone as long as the text, in the requested `pcm_*` format;
 * compressed formats are refused with 400, as the fake cannot encode them.
 *
 * @example
 * const fake = await startElevenLabsServer({ firstAudioLatency: 150 });
 * const tts = new elevenlabs.TTS({ baseURL: fake.apiBaseUrl, apiKey: 'fake-key' }); // the LiveKit plugin
 */
export async function startElevenLabsServer(
  options: ElevenLabsServerOptions = {},
): Promise<ElevenLabsServer> {
  const faults: ElevenLabsFault[] = [];
  const voiceListFaults: number[] = [];
  const sockets = new Set<WebSocket>();
  const fake: Omit<ElevenLabsServer, 'baseUrl' | 'apiBaseUrl' | 'close'> = {
    connections: [],
    requests: [],
    settings: {
      firstAudioLatency: options.firstAudioLatency ?? 150,
      msPerWord: options.msPerWord ?? 60,
      chunkDuration: options.chunkDuration ?? 100,
    },
    voices: options.voices ?? [...DEFAULT_FAKE_VOICES],
    failNextVoiceList: (status = 500) => void voiceListFaults.push(status),
    failNextConnection: (fault) => void faults.push(fault),
    dropConnections(code = 1011, reason = 'fake failure') {
      for (const socket of sockets) socket.close(code, reason);
    },
  };
  const authorized = (headers: IncomingHttpHeaders) =>
    options.apiKey === undefined || headers['xi-api-key'] === options.apiKey;

  const http = await startHttpServer(async (request, response, { signal }) => {
    const recorded = await recordRequest(request);
    fake.requests.push(recorded);
    const speech = httpSpeechPath.exec(recorded.path);
    if (!authorized(request.headers))
      return sendJson(response, 401, { detail: { status: 'invalid_api_key' } });
    if (recorded.method === 'GET' && /^\/v[12]\/voices$/.test(recorded.path)) {
      const status = voiceListFaults.shift();
      if (status)
        return sendJson(response, status, { detail: { status: 'fake_failure', message: 'fake failure' } });
    }
    if (answerVoiceList(response, recorded, fake.voices)) return;
    if (recorded.method !== 'POST' || !speech) return sendJson(response, 404, { detail: 'Not Found' });
    await answerHttpSpeech(response, recorded, fake.settings, faults.shift(), signal);
  });
  const webSockets = new WebSocketServer({ noServer: true });
  http.server.on('upgrade', (request: IncomingMessage, socket, head) => {
    const url = new URL(request.url ?? '/', 'http://fake.invalid');
    const outputFormat = url.searchParams.get('output_format') ?? 'mp3_44100_128';
    const connection: ElevenLabsConnection = {
      index: fake.connections.length,
      voiceId: decodeURIComponent(multiStreamPath.exec(url.pathname)?.[1] ?? ''),
      query: url.searchParams,
      headers: request.headers,
      openedAt: now(),
      outputFormat,
      sampleRate: pcmSampleRate(outputFormat) ?? 0,
      received: [],
      sent: [],
      contexts: [],
    };
    fake.connections.push(connection);
    const fault = faults.shift();
    const refuse = (status: number, message: string) => {
      connection.rejectedWith = status;
      rejectUpgrade(socket, status, message);
    };
    if (!multiStreamPath.test(url.pathname)) return refuse(404, 'Not Found');
    if (!authorized(request.headers)) return refuse(401, 'invalid_api_key');
    if (connection.sampleRate === 0) return refuse(400, `the fake only produces pcm_*, not ${outputFormat}`);
    if (fault?.kind === 'reject') return refuse(fault.status, fault.message ?? 'fake refusal');
    webSockets.handleUpgrade(request, socket, head, (webSocket) => {
      sockets.add(webSocket);
      webSocket.once('close', () => sockets.delete(webSocket));
      serveElevenLabsConnection(webSocket, connection, fake.settings, fault, http.closing);
    });
  });

  return Object.assign(fake, {
    baseUrl: `ws://127.0.0.1:${http.port}`,
    apiBaseUrl: `${http.origin}/v1`,
    close: async () => {
      for (const socket of sockets) socket.terminate();
      webSockets.close();
      await http.close();
    },
  });
}

/** `POST /v1/text-to-speech/{voice}[/stream]`: the whole text as PCM, after the first-audio latency. */
async function answerHttpSpeech(
  response: ServerResponse,
  recorded: RecordedHttpRequest,
  settings: ElevenLabsSettings,
  fault: ElevenLabsFault | undefined,
  signal: AbortSignal,
): Promise<void> {
  const body = (recorded.body ?? {}) as { text?: unknown };
  const outputFormat = recorded.query.get('output_format') ?? 'mp3_44100_128';
  const sampleRate = pcmSampleRate(outputFormat);
  if (fault?.kind === 'reject')
    return sendJson(response, fault.status, { detail: fault.message ?? 'fake refusal' });
  if (fault?.kind === 'error') return sendJson(response, 500, { detail: fault.message });
  if (fault?.kind === 'close') return void response.socket?.destroy();
  if (fault?.kind === 'stall') return untilAborted(signal);
  if (typeof body.text !== 'string') return sendJson(response, 422, { detail: 'text is required' });
  if (!sampleRate)
    return sendJson(response, 400, { detail: `the fake only produces pcm_*, not ${outputFormat}` });
  const pcm = pcmToBytes(toneForText(body.text, sampleRate, settings.msPerWord));
  await sleep(settings.firstAudioLatency, signal);
  response.writeHead(200, { 'content-type': 'audio/pcm', 'content-length': pcm.length });
  response.end(pcm);
}
