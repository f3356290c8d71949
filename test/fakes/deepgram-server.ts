import type { IncomingMessage } from 'node:http';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import type { DeepgramConnection, DeepgramSettings } from './deepgram-connection.ts';
import { newConnection, serveConnection } from './deepgram-connection.ts';
import { answerPrerecorded } from './deepgram-prerecorded.ts';
import { recordingKey, type RecordingScript } from './deepgram-recordings.ts';
import type { SocketFault } from './faults.ts';
import type { RecordedHttpRequest } from './http-server.ts';
import { recordRequest, rejectUpgrade, sendJson, startHttpServer } from './http-server.ts';

export type { DeepgramConnection, DeepgramSettings, DeepgramUtterance } from './deepgram-connection.ts';
export type { RecordingScript, ScriptedUtterance } from './deepgram-recordings.ts';

/** Decides the transcript of an utterance when the `transcripts` queue is empty. */
export type DeepgramTranscriber = (utterance: { index: number; connection?: DeepgramConnection }) => string;

export interface DeepgramServerOptions extends Partial<DeepgramSettings> {
  /** One transcript per utterance, first in first out. */
  transcripts?: string[];
  /** Used when the queue is empty; the default says "utterance 1", "utterance 2"... */
  transcriber?: DeepgramTranscriber;
  /** When set, connections without `Authorization: Token <apiKey>` are refused with 401. */
  apiKey?: string;
  /** Whole recordings the fake knows the words of (see {@link DeepgramServer.knowRecording}). */
  recordings?: readonly { bytes: Uint8Array; script: RecordingScript }[];
}

/** A running fake of Deepgram's live (`/v1/listen` WebSocket) and pre-recorded API. */
export interface DeepgramServer {
  /** `ws://127.0.0.1:PORT`: the plugin's `baseUrl` (it appends `/v1/listen`). */
  readonly baseUrl: string;
  readonly connections: DeepgramConnection[];
  /** Pre-recorded (`POST /v1/listen`) requests. */
  readonly requests: RecordedHttpRequest[];
  readonly transcripts: string[];
  readonly settings: DeepgramSettings;
  transcriber: DeepgramTranscriber;
  /**
   * Teaches the fake what is said in a recording, for pre-recorded requests with
   * diarize/utterances: it decodes only WAV itself, so any other container needs this.
   */
  knowRecording(bytes: Uint8Array, script: RecordingScript): void;
  /** Makes the next connection fail with `fault` (faults queue up). */
  failNextConnection(fault: SocketFault): void;
  /** Closes every open connection with `code` (default 1011), as a service failing mid-stream. */
  dropConnections(code?: number, reason?: string): void;
  /** Every final transcript with words sent so far, in order (noises' empty finals left out). */
  finalTranscripts(): string[];
  close(): Promise<void>;
}

/**
 * Starts a Deepgram fake on 127.0.0.1 (random port). It runs an energy detector over
 * the PCM it receives, sends `SpeechStarted` and interim `Results` while voiced audio
 * arrives, and a final `Results` (is_final and speech_final) with the scripted
 * transcript `finalDelay` ms after the utterance's last voiced audio arrived, or on
 * `Finalize`/`CloseStream`. It ignores the `endpointing` query parameter on purpose:
 * the plugin asks for 25 ms, which would cut real speech at every pause between words.
 *
 * @example
 * const fake = await startDeepgramServer({ transcripts: ['what is the code for the blue valve'] });
 * const stt = new deepgram.STT({ baseUrl: fake.baseUrl, apiKey: 'fake-key' }); // the LiveKit plugin
 */
export async function startDeepgramServer(options: DeepgramServerOptions = {}): Promise<DeepgramServer> {
  const faults: SocketFault[] = [];
  const sockets = new Set<WebSocket>();
  let utteranceCount = 0;
  const recordings = new Map<string, RecordingScript>(
    (options.recordings ?? []).map(({ bytes, script }) => [recordingKey(bytes), script]),
  );
  const fake: Omit<DeepgramServer, 'baseUrl' | 'close'> = {
    connections: [],
    requests: [],
    transcripts: [...(options.transcripts ?? [])],
    settings: {
      finalDelay: options.finalDelay ?? 150,
      endOfSpeechSilence: options.endOfSpeechSilence ?? 300,
      threshold: options.threshold ?? 0.01,
      minimumSpeech: options.minimumSpeech ?? 40,
      minimumUtterance: options.minimumUtterance ?? 150,
      interimInterval: options.interimInterval ?? 250,
    },
    transcriber: options.transcriber ?? (({ index }) => `utterance ${index + 1}`),
    knowRecording: (bytes, script) => void recordings.set(recordingKey(bytes), script),
    failNextConnection: (fault) => void faults.push(fault),
    dropConnections(code = 1011, reason = 'fake failure') {
      for (const socket of sockets) socket.close(code, reason);
    },
    finalTranscripts: () =>
      fake.connections
        .flatMap((connection) => connection.utterances)
        .filter((utterance) => utterance.finalSentAt !== undefined && utterance.transcript !== '')
        .map((utterance) => utterance.transcript),
  };
  const nextTranscript = (connection?: DeepgramConnection) => {
    const index = utteranceCount++;
    return { index, transcript: fake.transcripts.shift() ?? fake.transcriber({ index, connection }) };
  };

  const http = await startHttpServer(async (request, response, { signal }) => {
    const recorded = await recordRequest(request);
    fake.requests.push(recorded);
    if (recorded.method !== 'POST' || recorded.path !== '/v1/listen')
      return sendJson(response, 404, { err_code: 'NOT_FOUND', err_msg: 'Not found.' });
    if (options.apiKey !== undefined && request.headers.authorization !== `Token ${options.apiKey}`)
      return sendJson(response, 401, { err_code: 'INVALID_AUTH', err_msg: 'Invalid credentials.' });
    await answerPrerecorded(response, recorded, {
      settings: fake.settings,
      nextTranscript,
      signal,
      recordings,
    });
  });
  const webSockets = new WebSocketServer({ noServer: true });
  http.server.on('upgrade', (request: IncomingMessage, socket, head) => {
    const url = new URL(request.url ?? '/', 'http://fake.invalid');
    const connection = newConnection(fake.connections.length, url.searchParams, request.headers);
    fake.connections.push(connection);
    const fault = faults.shift();
    const refuse = (status: number, message: string) => {
      connection.rejectedWith = status;
      rejectUpgrade(socket, status, message);
    };
    if (url.pathname !== '/v1/listen') return refuse(404, 'Not found.');
    if (options.apiKey !== undefined && request.headers.authorization !== `Token ${options.apiKey}`)
      return refuse(401, 'Invalid credentials.');
    if (fault?.kind === 'reject') return refuse(fault.status, fault.message ?? 'fake refusal');
    webSockets.handleUpgrade(request, socket, head, (webSocket) => {
      sockets.add(webSocket);
      webSocket.once('close', () => sockets.delete(webSocket));
      serveConnection(webSocket, connection, fake.settings, fault, nextTranscript, http.closing);
    });
  });

  return Object.assign(fake, {
    baseUrl: `ws://127.0.0.1:${http.port}`,
    close: async () => {
      for (const socket of sockets) socket.terminate();
      webSockets.close();
      await http.close();
    },
  });
}
