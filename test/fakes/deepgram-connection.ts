import type { IncomingHttpHeaders } from 'node:http';
import type { RawData, WebSocket } from 'ws';
import { pcmDuration } from './audio-signal.ts';
import type { DeepgramMessage } from './deepgram-messages.ts';
import { interimTranscript, metadataMessage, resultsMessage } from './deepgram-messages.ts';
import { speechStartedMessage, utteranceEndMessage } from './deepgram-messages.ts';
import type { SocketFault } from './faults.ts';
import { SpeechDetector } from './speech-detector.ts';
import { now, sleep } from './timing.ts';

/**
 * One live connection of the Deepgram fake: what it records and how it answers.
 * `deepgram-server.ts` owns listening, handshakes and armed faults.
 */

/** Knobs of the Deepgram fake; tests may change them between connections. */
export interface DeepgramSettings {
  /**
   * Milliseconds from the arrival of an utterance's last voiced audio to its final result
   * (default 150). The final cannot go out before the fake knows the utterance ended, so
   * with audio arriving in real time its delay is really max(finalDelay, endOfSpeechSilence
   * rounded up to the client's chunk size); every utterance records both timestamps.
   */
  finalDelay: number;
  /**
   * Milliseconds of silent audio that end an utterance (default 300: espeak-ng speech has
   * pauses of up to ~150 ms inside a sentence; see `SpeechDetectorOptions`). Benchmarks
   * that want finals exactly `finalDelay` after speech set it to 150 or less.
   */
  endOfSpeechSilence: number;
  /** RMS threshold of voiced audio, 0 to 1 (default 0.01). */
  threshold: number;
  /** Milliseconds of voiced audio that open an utterance (default 40). */
  minimumSpeech: number;
  /**
   * Milliseconds an utterance must last to be heard as words (default 150). Shorter ones
   * (a cough, a click) get an empty final transcript and consume no scripted transcript,
   * as Deepgram hears no words in them.
   */
  minimumUtterance: number;
  /** Milliseconds of audio between interim results (default 250). */
  interimInterval: number;
}

/** One utterance the fake heard. Wall-clock fields are `performance.now()` milliseconds. */
export interface DeepgramUtterance {
  /** 0 for the first utterance heard as words on this server, across connections; -1 until then. */
  index: number;
  /** The scripted transcript; empty until the utterance lasts `minimumUtterance`, and for noises. */
  transcript: string;
  /** Milliseconds of audio from the stream's start. */
  start: number;
  end?: number;
  startedAt: number;
  /** When the audio holding the utterance's last voiced sample arrived. */
  speechEndedAt?: number;
  finalSentAt?: number;
  /** Ended by a client's `Finalize` or `CloseStream` rather than by silence. */
  fromFinalize: boolean;
}

/** One WebSocket connection (or refused attempt) with everything that went over it. */
export interface DeepgramConnection {
  index: number;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  openedAt: number;
  /** Set when the handshake was refused (bad key, injected fault...). */
  rejectedWith?: number;
  sampleRate: number;
  channels: number;
  audioChunks: { bytes: Buffer; receivedAt: number; start: number; end: number }[];
  controlMessages: { type: string; message: unknown; receivedAt: number }[];
  sent: { message: DeepgramMessage; sentAt: number }[];
  utterances: DeepgramUtterance[];
  closedAt?: number;
  closeCode?: number;
  /** Milliseconds of audio received. */
  readonly audioDuration: number;
  /** Every audio byte received, joined. */
  audio(): Buffer;
}

export function newConnection(
  index: number,
  query: URLSearchParams,
  headers: IncomingHttpHeaders,
): DeepgramConnection {
  const sampleRate = Number(query.get('sample_rate') ?? 16_000);
  const channels = Number(query.get('channels') ?? 1);
  const connection: DeepgramConnection = {
    index,
    query,
    headers,
    openedAt: now(),
    sampleRate,
    channels,
    audioChunks: [],
    controlMessages: [],
    sent: [],
    utterances: [],
    get audioDuration() {
      const bytes = connection.audioChunks.reduce((total, chunk) => total + chunk.bytes.length, 0);
      return pcmDuration(bytes / 2, sampleRate, channels);
    },
    audio: () => Buffer.concat(connection.audioChunks.map((chunk) => chunk.bytes)),
  };
  return connection;
}

/** Drives one live connection: detection, interim and final results, control messages, faults. */
export function serveConnection(
  socket: WebSocket,
  connection: DeepgramConnection,
  settings: DeepgramSettings,
  fault: SocketFault | undefined,
  nextTranscript: (connection: DeepgramConnection) => { index: number; transcript: string },
  closing: AbortSignal,
): void {
  const { query } = connection;
  const model = query.get('model') ?? 'nova-3';
  const requestId = `fake-request-${connection.index + 1}`;
  const detector = new SpeechDetector({
    ...settings,
    sampleRate: connection.sampleRate,
    channels: connection.channels,
  });
  const pendingFinals = new Set<Promise<void>>();
  let current: DeepgramUtterance | undefined;
  let lastInterimAt = -Infinity;
  let received = 0;
  // A stalled connection, or one about to be closed by a fault, records but never answers.
  let muted = fault?.kind === 'stall';

  const send = (message: DeepgramMessage) => {
    if (socket.readyState !== socket.OPEN) return;
    socket.send(JSON.stringify(message));
    connection.sent.push({ message, sentAt: now() });
  };
  const arrivalOf = (at: number) =>
    connection.audioChunks.findLast((chunk) => chunk.start < at)?.receivedAt ?? now();

  /** Takes the next scripted transcript once an utterance is long enough to be words. */
  const hear = (utterance: DeepgramUtterance, end: number) => {
    if (utterance.index >= 0 || end - utterance.start < settings.minimumUtterance) return;
    Object.assign(utterance, nextTranscript(connection));
  };
  const begin = (at: number) => {
    current = { index: -1, transcript: '', start: at, startedAt: now(), fromFinalize: false };
    connection.utterances.push(current);
    lastInterimAt = -Infinity;
    if (query.get('vad_events') === 'true') send(speechStartedMessage(at));
  };
  const end = (at: number, fromFinalize: boolean) => {
    const utterance = current;
    if (!utterance) return;
    current = undefined;
    hear(utterance, at);
    Object.assign(utterance, { end: at, speechEndedAt: arrivalOf(at), fromFinalize });
    const delay = Math.max(0, (utterance.speechEndedAt ?? now()) + settings.finalDelay - now());
    const final = sleep(delay, closing)
      .then(() => {
        send(
          resultsMessage({
            ...utterance,
            end: at,
            isFinal: true,
            speechFinal: true,
            fromFinalize,
            requestId,
            model,
          }),
        );
        utterance.finalSentAt = now();
        if (query.get('utterance_end_ms')) send(utteranceEndMessage(at));
      })
      .catch(() => undefined)
      .finally(() => pendingFinals.delete(final));
    pendingFinals.add(final);
  };
  const onAudio = (bytes: Buffer) => {
    const start = detector.position;
    const chunkDuration = pcmDuration(bytes.length / 2, connection.sampleRate, connection.channels);
    connection.audioChunks.push({ bytes, receivedAt: now(), start, end: start + chunkDuration });
    if (muted) return;
    for (const event of detector.push(bytes)) {
      if (event.type === 'start') begin(event.at);
      else end(event.at, false);
    }
    if (current) hear(current, detector.lastVoicedEnd);
    const voiced = current && current.index >= 0 && detector.lastVoicedEnd > start;
    if (voiced && current && query.get('interim_results') !== 'false') {
      if (detector.position - lastInterimAt < settings.interimInterval) return;
      lastInterimAt = detector.position;
      const transcript = interimTranscript(current.transcript, detector.lastVoicedEnd - current.start);
      send(
        resultsMessage({
          ...current,
          transcript,
          end: detector.lastVoicedEnd,
          isFinal: false,
          speechFinal: false,
          requestId,
          model,
        }),
      );
    }
  };
  const onControl = async (message: { type?: unknown }) => {
    const type = String(message.type);
    connection.controlMessages.push({ type, message, receivedAt: now() });
    if (muted || (type !== 'Finalize' && type !== 'CloseStream')) return;
    for (const event of detector.finish()) end(event.at, true);
    if (type === 'Finalize') return;
    await Promise.all(pendingFinals);
    const channels = connection.channels;
    send(metadataMessage({ requestId, duration: connection.audioDuration, channels, model }));
    socket.close(1000);
  };

  socket.on('message', (data: RawData, isBinary: boolean) => {
    // Once the fake started closing, what is still in flight is discarded, as a server would.
    if (socket.readyState !== socket.OPEN) return;
    received += 1;
    const closeNow = fault?.kind === 'close' && received >= (fault.afterMessages ?? 0);
    muted ||= closeNow;
    const bytes = Buffer.isBuffer(data)
      ? data
      : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]);
    if (isBinary) onAudio(bytes);
    else {
      try {
        void onControl(JSON.parse(bytes.toString('utf8')) as { type?: unknown });
      } catch {
        connection.controlMessages.push({
          type: 'invalid',
          message: bytes.toString('utf8'),
          receivedAt: now(),
        });
      }
    }
    if (closeNow && fault.kind === 'close') socket.close(fault.code, fault.reason ?? 'fake failure');
  });
  socket.on('close', (code: number) => Object.assign(connection, { closedAt: now(), closeCode: code }));
  if (fault?.kind === 'close' && (fault.afterMessages ?? 0) === 0)
    socket.close(fault.code, fault.reason ?? 'fake failure');
}
