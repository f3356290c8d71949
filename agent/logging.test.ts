import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { log } from '@livekit/agents';
import { pino } from 'pino';
import { listMemories, resolveUser } from '../db/index.ts';
import { speak, speechFixture, VoiceHarness, waitFor } from '../test/support/voice-harness.ts';
import { initializeAgentsLogging, withoutContent } from './logging.ts';

/** What the user says, what is remembered and what the assistant answers all carry it. */
const MARKER = 'Zqx7Locker9';

describe('logs carry no conversation content', () => {
  let harness: VoiceHarness;
  let output = '';
  const restoreStderr = captureStderr((text) => (output += text));
  const ours = pino(
    { level: 'debug' },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        output += chunk.toString();
        done();
      },
    }),
  );

  beforeAll(async () => {
    // Before the harness: the framework logs at debug, the most it ever logs.
    initializeAgentsLogging('debug');
    harness = await VoiceHarness.start();
    harness.openai.chatResponder = (request) => {
      if (request.toolResult !== undefined) return { text: `Noted: ${MARKER}.` };
      if (/remember/i.test(request.lastUserText)) {
        return { toolCalls: [{ name: 'remember', arguments: { fact: `The locker code is ${MARKER}.` } }] };
      }
      return { text: `You typed ${MARKER}.` };
    };
  });
  afterAll(async () => {
    restoreStderr();
    await harness?.close();
  });

  it('a spoken and a typed turn with a remembered fact log at debug without their text', async () => {
    const pool = harness.test.database.pool;
    const userId = await resolveUser(pool, { kind: 'web', value: 'logging-test' });
    const { voice, input } = await harness.startSession(userId, { logger: ours });
    const answered = (count: number) => () =>
      harness.events.filter(
        (event) => event.type === 'transcript' && event.role === 'assistant' && event.final,
      ).length >= count;

    harness.deepgram.transcripts.push(`please remember that my locker code is ${MARKER}`);
    await speak(input, speechFixture('remember-locker'));
    await waitFor(answered(1), 20_000, 'the spoken answer');
    voice.sendText(`what did I say about ${MARKER}?`);
    await waitFor(answered(2), 20_000, 'the typed answer');
    await voice.close();

    // The turns happened, with the marker, and the framework logged them at debug.
    const memories = await listMemories(pool, userId, { kinds: ['fact'] });
    expect(memories.map((memory) => memory.text)).toContain(`The locker code is ${MARKER}.`);
    expect(output).toContain('Executing LLM tool call');
    expect(output).toContain('received user transcript');
    // Sizes stand where the text was.
    expect(output).toMatch(/"lk\.pii\.user_transcript":"\[\d+ characters\]"/);
    expect(output).not.toContain(MARKER);
  });

  it('the framework logs through the filtered logger', () => {
    const line = captureFrom(() => log().child({ 'lk.pii.message': MARKER }).warn({ size: 3 }, 'bound'));
    expect(line).toContain('"lk.pii.message":"[11 characters]"');
    expect(line).not.toContain(MARKER);
  });

  function captureFrom(write: () => void): string {
    const before = output.length;
    write();
    return output.slice(before);
  }
});

describe('withoutContent', () => {
  it('replaces content fields at any depth with their size and keeps everything else', () => {
    const fields = {
      speech_id: 's1',
      'lk.pii.arguments': { fact: 'abc' },
      nested: { 'lk.pii.x': 'abcd', n: 1 },
    };
    expect(withoutContent(fields)).toEqual({
      speech_id: 's1',
      'lk.pii.arguments': '[14 characters]',
      nested: { 'lk.pii.x': '[4 characters]', n: 1 },
    });
    expect(fields['lk.pii.arguments']).toEqual({ fact: 'abc' }); // not mutated
    const clean = { speech_id: 's1', pipeline: 'x' };
    expect(withoutContent(clean)).toBe(clean);
  });
});

/** Collects what is written to stderr (where the framework's pino writes, patched) instead of printing it. */
function captureStderr(collect: (text: string) => void): () => void {
  const original = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array) => {
    collect(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
    return true;
  }) as typeof process.stderr.write;
  return () => {
    process.stderr.write = original;
  };
}
