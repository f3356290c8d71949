import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { concatenatePcm, decodeWav, rootMeanSquare, silence } from '../test/fakes/audio-signal.ts';

/**
 * Real recorded human speech for the voice benchmarks: Debian's
 * `asterisk-core-sounds-en-wav` (hundreds of English telephony prompts read by one
 * professional speaker, CC BY-SA 3.0; transcripts in `core-sounds-en.txt`). Installed
 * on first use with apt-get (never committed), converted to 16 kHz with sox, trimmed to
 * the voice. Each clip is a list of segments with the words Deepgram would send for
 * each (its punctuation on complete sentences), for the STT fake to say.
 */

const SOUNDS = '/usr/share/asterisk/sounds/en';
const TRANSCRIPTS = '/usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz';
const CACHE = path.join(os.tmpdir(), 'voice-bench-speech-16k');
export const SAMPLE_RATE = 16_000;

/** Audio in 16 kHz mono, and where each segment starts with the words it says. */
export interface SpokenClip {
  id: string;
  samples: Int16Array;
  sampleRate: number;
  segments: { startSample: number; text: string }[];
  /** Silence inserted between the segments (pause corpus), in ms. */
  pauseMs?: number;
}

/** Makes sure the recordings and sox are installed; apt-gets them (saying so) when not. */
export function ensureHumanSpeech(out: NodeJS.WritableStream): void {
  const missing = [
    // The WAV package holds the recordings; asterisk-core-sounds-en (only recommended by
    // it) holds the `en` link to them and their transcripts.
    ...(existsSync(`${SOUNDS}/agent-pass.wav`) && existsSync(TRANSCRIPTS)
      ? []
      : ['asterisk-core-sounds-en', 'asterisk-core-sounds-en-wav']),
    ...(commandExists('sox') ? [] : ['sox']),
  ];
  if (missing.length === 0) return;
  out.write(`human speech: installing ${missing.join(' ')} with apt-get (recordings are not committed)...\n`);
  try {
    execFileSync('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { stdio: 'ignore' });
  } catch (error) {
    throw new Error(
      `could not install ${missing.join(' ')} (${(error as Error).message}); ` +
        `run "apt-get install ${missing.join(' ')}" as root and try again`,
      { cause: error },
    );
  }
}

function commandExists(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

let transcripts: Map<string, string> | undefined;

/** The prompt's words as the package transcribes them (`core-sounds-en.txt`). */
export function promptText(name: string): string {
  transcripts ??= new Map(
    gunzipSync(readFileSync(TRANSCRIPTS))
      .toString('utf8')
      .split('\n')
      .filter((line) => line.includes(': ') && !line.startsWith(';'))
      .map((line) => [line.slice(0, line.indexOf(': ')), line.slice(line.indexOf(': ') + 2).trim()]),
  );
  const text = transcripts.get(name);
  if (text === undefined) throw new Error(`no transcript for the asterisk prompt ${name}`);
  return text;
}

/** One prompt at 16 kHz, trimmed to its voice (30 ms margins). */
export function promptAudio(name: string): Int16Array {
  mkdirSync(path.join(CACHE, path.dirname(name)), { recursive: true });
  const converted = path.join(CACHE, `${name}.wav`);
  if (!existsSync(converted))
    execFileSync('sox', [`${SOUNDS}/${name}.wav`, '-r', String(SAMPLE_RATE), '-b', '16', converted]);
  const wav = decodeWav(readFileSync(converted));
  if (!wav) throw new Error(`${converted} is not a 16-bit WAV`);
  return trimToVoice(wav.samples);
}

/** Cuts leading and trailing silence (10 ms windows below RMS 0.01), keeping 30 ms either side. */
export function trimToVoice(samples: Int16Array, sampleRate = SAMPLE_RATE): Int16Array {
  const window = sampleRate / 100;
  const voiced: number[] = [];
  for (let start = 0; start + window <= samples.length; start += window)
    if (rootMeanSquare(samples.subarray(start, start + window)) > 0.01) voiced.push(start);
  if (voiced.length === 0) return samples;
  const margin = (sampleRate * 30) / 1000;
  return samples.subarray(
    Math.max(0, (voiced[0] as number) - margin),
    Math.min(samples.length, (voiced.at(-1) as number) + window + margin),
  );
}

/** Joins prompts with short natural gaps (80 ms, as between words read in a row). */
export function joinPrompts(names: readonly string[]): Int16Array {
  const parts: Int16Array[] = [];
  for (const [index, name] of names.entries()) {
    if (index > 0) parts.push(silence(80, SAMPLE_RATE));
    parts.push(promptAudio(name));
  }
  return concatenatePcm(...parts);
}

/** A complete sentence as Deepgram renders it: its punctuation kept, a period added when the transcript has none. */
export function asSpokenSentence(text: string): string {
  const cleaned = text.replace(/\s+/g, ' ').trim();
  const sentence = cleaned.charAt(0).toUpperCase() + cleaned.slice(1);
  return /[.?!]$/.test(sentence) ? sentence : `${sentence}.`;
}

/**
 * Complete single-sentence prompts (1 to 4 s): statements, requests and the package's
 * questions. The voice-latency benchmark's human turns.
 */
const COMPLETE_PROMPTS = [
  'vm-savefolder',
  'vm-changeto',
  'all-circuits-busy-now',
  'cannot-complete-as-dialed',
  'check-number-dial-again',
  'agent-pass',
  'conf-getpin',
  'conf-full',
  'conf-onlyperson',
  'conf-placeintoconf',
  'number-not-answering',
  'please-try-call-later',
  'privacy-incorrect',
  'sorry-youre-having-problems',
  'speed-dial-empty',
  'tt-weasels',
  'vm-msgsaved',
  'vm-nobodyavail',
  'vm-enter-num-to-call',
  'followme/pls-hold-while-try',
  'vm-reenterpassword',
  'one-moment-please',
] as const;

/** The human turns, in a fixed order. */
export function humanPrompts(): SpokenClip[] {
  return COMPLETE_PROMPTS.map((name) => {
    const samples = promptAudio(name);
    return {
      id: name,
      samples,
      sampleRate: SAMPLE_RATE,
      segments: [{ startSample: 0, text: asSpokenSentence(promptText(name)) }],
    };
  });
}
