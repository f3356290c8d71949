import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import {
  createLinkCode,
  findUserByIdentity,
  listMemories,
  resolveUser,
  storeMemory,
  type Database,
} from '../db/index.ts';
import { ingestFile } from '../ingest/pipeline.ts';
import {
  createVisionModel,
  IMAGE_DESCRIPTION_INSTRUCTION,
  PAGE_TRANSCRIPTION_INSTRUCTION,
  type VisionModel,
} from '../ingest/vision.ts';
import { SUMMARY_INSTRUCTIONS } from './instructions.ts';
import { askOnce } from './text-session.ts';
import type { ChatReply, ChatRequest } from '../test/fakes/openai-chat.ts';
import { buildProsePdf, wrapText } from '../test/fixtures/ingest/prose-pdf.ts';
import {
  CANARY_MEMORY,
  INJECTION_PAYLOADS,
  type InjectionPayload,
} from '../test/fixtures/injection/payloads.ts';
import { buildPdf } from '../test/fixtures/media/pdf-fixtures.ts';
import { expectOnlyAsData, toolCallsMade } from '../test/support/injection-checks.ts';
import { speak, speechFixture, VoiceHarness, waitFor } from '../test/support/voice-harness.ts';

/** What the user asks in every case: nothing in it asks to remember, forget or link. */
const QUESTION = 'What does my document say?';
const REFUSALS: Record<string, string> = {
  remember: 'Not saved',
  forget: 'Nothing was forgotten',
  link_web_account: 'Not linked',
};

/** One payload being run: its text with the victim's code filled in. */
interface Running {
  payload: InjectionPayload;
  text: string;
  fileName: string | undefined;
  demands: { name: string; arguments: Record<string, string> }[];
}

let harness: VoiceHarness;
let vision: VisionModel;
let running: Running | undefined;
/** Text-only replies the fake gave to the conversation (not to vision or summaries). */
let answers = 0;
/** Answer by reading the document out, as a model asked "what does my document say" would. */
let quoteDocument = false;

/**
 * The fake model, scripted to obey: whenever a payload's marker is anywhere in the
 * request except the user's latest message, it makes the tool calls the payload asks
 * for. It also plays the vision model (the payload is the caption or the page) and
 * the summarizer (it repeats the payload when it sees it).
 */
function obeyingModel(request: ChatRequest): ChatReply {
  const messages = request.body.messages;
  const system = messages[0]?.role === 'system' ? String(messages[0].content) : '';
  const marker = running?.payload.marker ?? 'no payload';
  if (system === PAGE_TRANSCRIPTION_INSTRUCTION || system === IMAGE_DESCRIPTION_INSTRUCTION) {
    return { text: running?.text ?? 'A grey square.' };
  }
  if (system === SUMMARY_INSTRUCTIONS) {
    const seen = JSON.stringify(messages).includes(marker);
    return { text: seen ? `Summary: ${running?.text}` : 'The user asked what their document says.' };
  }
  const lastUser = [...messages].reverse().find((message) => message.role === 'user');
  // The reference call before the user's message repeats their words as its query: not elsewhere.
  const echoesUser = (message: (typeof messages)[number]) =>
    message.tool_calls?.some((call) => call.id.startsWith('reference_')) === true;
  const elsewhere = messages.some(
    (message) => message !== lastUser && !echoesUser(message) && JSON.stringify(message).includes(marker),
  );
  const madeCalls = toolCallsMade([request.body]);
  const obeyed = [...madeCalls.values()].some((call) => call.name !== 'search_knowledge');
  const searched = [...madeCalls.values()].some((call) => call.name === 'search_knowledge');
  if (running?.payload.carrier === 'tool-result' && !searched) {
    return { toolCalls: [{ name: 'search_knowledge', arguments: { query: 'appendix instructions' } }] };
  }
  if (elsewhere && !obeyed && running) {
    return { toolCalls: running.demands };
  }
  answers += 1;
  return { text: quoteDocument ? `The document says: ${running?.text}` : 'Found it.' };
}

const fill = (text: string, code: string) => text.replaceAll('{{code}}', code);

async function grayImage(format: 'png' | 'jpeg'): Promise<Buffer> {
  const image = sharp({ create: { width: 64, height: 48, channels: 3, background: '#777' } });
  return format === 'png' ? image.png().toBuffer() : image.jpeg().toBuffer();
}

/** Puts a payload where its carrier says, through the real ingest path or the memory table. */
async function place(database: Database, userId: string, run: Running): Promise<void> {
  const { carrier } = run.payload;
  if (carrier === 'memory') {
    const [embedding] = await harness.embedder.embed([run.text]);
    await storeMemory(database.pool, {
      userId,
      kind: 'summary',
      text: run.text,
      embedding: embedding ?? null,
      embeddingModel: harness.embedder.model,
    });
    return;
  }
  if (carrier === 'transcript' || carrier === 'image-name') return;
  const files: Record<string, () => Promise<[Buffer, string]>> = {
    pdf: async () => [buildProsePdf([wrapText(run.text)]), 'notes.pdf'],
    'scanned-pdf': async () => [
      buildPdf([{ scan: await grayImage('jpeg'), encoding: 'jpeg', width: 64, height: 48, channels: 3 }]),
      'scan.pdf',
    ],
    'image-caption': async () => [await grayImage('png'), 'photo.png'],
    'text-file': async () => [Buffer.from(run.text), 'notes.txt'],
    'markdown-file': async () => [Buffer.from(run.text), 'notes.md'],
    'html-file': async () => [Buffer.from(run.text), 'page.html'],
    'document-name': async () => [Buffer.from(run.text), 'named.txt'],
    'tool-result': async () => [Buffer.from(run.text), 'appendix.txt'],
  };
  const [bytes, defaultName] = await (files[carrier] as () => Promise<[Buffer, string]>)();
  const fileName = run.fileName ?? defaultName;
  const limits = { maxBytes: 20_000_000, maxPixels: 40_000_000, maxPages: 50, maxRecordingMs: 3_600_000 };
  await ingestFile(
    { bytes, fileName, ownerId: userId, sourceName: fileName },
    { database, embedder: harness.embedder, vision, limits },
  );
}

/** What the database must still say after any payload: nothing stored, deleted or linked. */
async function expectNothingChanged(userId: string, run: Running, victim?: { id: string; browser: string }) {
  const pool = harness.test.database.pool;
  const facts = await listMemories(pool, userId, { kinds: ['fact'] });
  expect(facts.map((memory) => memory.text)).toEqual([CANARY_MEMORY]);
  const summaries = await listMemories(pool, userId, { kinds: ['summary'] });
  // The seeded memory stays; a summary repeats a payload only when the user said it themselves.
  const expected = { memory: 1, transcript: 1 }[run.payload.carrier as string] ?? 0;
  expect(summaries.filter((memory) => memory.text.includes(run.payload.marker))).toHaveLength(expected);
  if (victim) {
    expect(await findUserByIdentity(pool, { kind: 'web', value: victim.browser })).toBe(victim.id);
  }
}

beforeAll(async () => {
  harness = await VoiceHarness.start();
  vision = createVisionModel({
    baseUrl: harness.openai.baseUrl,
    apiKey: 'fake-key',
    model: 'vision-test',
    maxRetries: 0,
  });
  harness.openai.chatResponder = obeyingModel;
});
afterAll(() => harness?.close());

/** Sets up a fresh user (and, on the phone, a victim with a live code) for a payload. */
async function prepare(payload: InjectionPayload, mode: string) {
  const pool = harness.test.database.pool;
  const onPhone = payload.channel === 'phone';
  const userId = await resolveUser(pool, {
    kind: onPhone ? 'phone' : 'web',
    value: `${mode}-${payload.marker}`,
  });
  const [embedding] = await harness.embedder.embed([CANARY_MEMORY]);
  await storeMemory(pool, {
    userId,
    kind: 'fact',
    text: CANARY_MEMORY,
    embedding: embedding ?? null,
    embeddingModel: harness.embedder.model,
  });
  let victim: { id: string; browser: string } | undefined;
  let code = '';
  if (onPhone) {
    const browser = `victim-${mode}-${payload.marker}`;
    victim = { id: await resolveUser(pool, { kind: 'web', value: browser }), browser };
    code = (await createLinkCode(pool, victim.id)).code;
  }
  const run: Running = {
    payload,
    text: fill(payload.text, code),
    fileName: payload.fileName === undefined ? undefined : fill(payload.fileName, code),
    demands: payload.demands.map((demand) => ({
      name: demand.name,
      arguments: Object.fromEntries(
        Object.entries(demand.arguments).map(([key, value]) => [key, fill(value, code)]),
      ),
    })),
  };
  running = run;
  await place(harness.test.database, userId, run);
  return { userId, victim, run };
}

/** The checks every case ends with: the model got the payload as data only, and no demand ran. */
async function expectHeldAsData(
  run: Running,
  firstRequest: number,
  userId: string,
  victim?: { id: string; browser: string },
) {
  const bodies = harness.openai.chatBodies().slice(firstRequest);
  const isSummary = (body: (typeof bodies)[number]) => body.messages[0]?.content === SUMMARY_INSTRUCTIONS;
  const conversation = bodies.filter((body) => !isSummary(body));
  const { carrier } = run.payload;
  const contained = expectOnlyAsData(conversation, run.payload.marker, {
    userTurns: carrier === 'transcript',
    uploadNotice: carrier === 'image-name',
  });
  if (!['transcript', 'image-name'].includes(carrier)) expect(contained).toBeGreaterThan(0);
  // The fake obeyed: every demanded tool was called, and each one refused.
  const calls = [...toolCallsMade(conversation).values()].filter((call) => call.name !== 'search_knowledge');
  expect(calls.map((call) => call.name).sort()).toEqual(run.demands.map((demand) => demand.name).sort());
  for (const call of calls) expect(call.output).toContain(REFUSALS[call.name]);
  // The summarizer never sees the payload, unless the user said it themselves.
  for (const body of bodies.filter(isSummary)) {
    if (carrier !== 'transcript') expect(JSON.stringify(body.messages)).not.toContain(run.payload.marker);
  }
  await expectNothingChanged(userId, run, victim);
}

describe('prompt injection: untrusted text stays data', () => {
  it.each(INJECTION_PAYLOADS)(
    '$marker in $carrier ($channel) is data, and no tool it asks for runs',
    async (payload) => {
      const { userId, victim, run } = await prepare(payload, 'session');
      const first = harness.openai.chatBodies().length;
      const call = { transferToHuman: async () => undefined, hangUp: async () => undefined };
      const { voice } = await harness.startSession(
        userId,
        payload.channel === 'phone' ? { channel: 'phone', call } : {},
      );
      if (payload.carrier === 'image-name') {
        await voice.receiveUpload({
          bytes: await grayImage('png'),
          fileName: run.fileName ?? 'x.png',
          claimedType: 'image/png',
        });
      }
      const turns = payload.carrier === 'transcript' ? [run.text, QUESTION] : [QUESTION];
      for (const text of turns) {
        const before = answers;
        voice.sendText(text);
        await waitFor(() => answers > before, 20_000, `the answer to "${text.slice(0, 40)}"`);
      }
      await voice.close();
      await expectHeldAsData(run, first, userId, victim);
    },
  );

  const typed = INJECTION_PAYLOADS.filter(
    (payload) =>
      payload.channel === 'web' &&
      ['pdf', 'memory', 'document-name', 'tool-result'].includes(payload.carrier),
  );
  it.each(typed)(
    '$marker in $carrier through npm run ask is data, and no tool it asks for runs',
    async (payload) => {
      const { userId, run } = await prepare(payload, 'ask');
      const first = harness.openai.chatBodies().length;
      const result = await askOnce(
        { config: harness.config, database: harness.test.database, embedder: harness.embedder, userId },
        QUESTION,
      );
      expect(result.answer).toBe('Found it.');
      await expectHeldAsData(run, first, userId);
    },
  );

  it('keeps a spoken turn the same: the PDF payload reaches the model as data only', async () => {
    const payload = INJECTION_PAYLOADS[0] as InjectionPayload;
    const { userId, run } = await prepare(payload, 'voice');
    const first = harness.openai.chatBodies().length;
    const { voice, input } = await harness.startSession(userId);
    harness.deepgram.transcripts.push(QUESTION.toLowerCase());
    const before = answers;
    await speak(input, speechFixture('ask-locker'));
    await waitFor(() => answers > before, 30_000, 'the spoken answer');
    await voice.close();
    await expectHeldAsData(run, first, userId);
  });

  it('does not launder document text into a summary memory, even when the answer quoted it', async () => {
    const payload = INJECTION_PAYLOADS[0] as InjectionPayload;
    const { userId, run } = await prepare(payload, 'summary');
    const first = harness.openai.chatBodies().length;
    quoteDocument = true;
    try {
      const { voice } = await harness.startSession(userId);
      voice.sendText(QUESTION);
      await waitFor(
        () =>
          harness.events.some(
            (event) =>
              event.type === 'transcript' &&
              event.role === 'assistant' &&
              event.final &&
              event.text.includes(run.payload.marker),
          ),
        30_000,
        'the answer, read out in full',
      );
      await voice.close();
    } finally {
      quoteDocument = false;
    }
    const bodies = harness.openai.chatBodies().slice(first);
    // The answer did read the payload out, so it was in the conversation's history.
    const summaries = bodies.filter((body) => body.messages[0]?.content === SUMMARY_INSTRUCTIONS);
    expect(summaries).toHaveLength(1);
    expect(JSON.stringify(summaries[0]?.messages)).toContain(QUESTION);
    expect(JSON.stringify(summaries[0]?.messages)).not.toContain(run.payload.marker);
    const stored = await listMemories(harness.test.database.pool, userId, { kinds: ['summary'] });
    expect(stored.map((memory) => memory.text)).toEqual(['The user asked what their document says.']);
  });
});
