import OpenAI, { BadRequestError, toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesToPcm, decodeWav, encodeWav, rootMeanSquare, speechLikeSignal } from './audio-signal.ts';
import type { OpenAIServer } from './openai-server.ts';
import { startOpenAIServer } from './openai-server.ts';
import { cosineSimilarity, embedText } from './text-embedding.ts';

let server: OpenAIServer;
let client: OpenAI;

beforeAll(async () => {
  server = await startOpenAIServer({ synonyms: [['car', 'automobile']] });
  client = new OpenAI({ baseURL: server.baseUrl, apiKey: 'fake-key', maxRetries: 0 });
});
afterAll(() => server.close());

async function embed(input: string, encoding?: 'float' | 'base64'): Promise<number[]> {
  const result = await client.embeddings.create({
    model: 'text-embedding-3-small',
    input,
    ...(encoding ? { encoding_format: encoding } : {}),
  });
  return result.data[0]?.embedding ?? [];
}

describe('OpenAI fake: embeddings through the openai SDK', () => {
  it('answers the SDK default (base64) and float encodings with the same unit vectors', async () => {
    const viaDefault = await embed('What is the code for the blue valve?');
    const viaFloat = await embed('What is the code for the blue valve?', 'float');
    const sent = server
      .requestsTo('/embeddings')
      .map((request) => (request.body as { encoding_format?: string }).encoding_format);
    expect(sent).toEqual(['base64', 'float']);
    expect(viaDefault).toHaveLength(1536);
    expect(Math.hypot(...viaDefault)).toBeCloseTo(1, 5);
    viaFloat.forEach((value, index) => expect(viaDefault[index]).toBeCloseTo(value, 6));
    const expected = embedText('What is the code for the blue valve?', server.embedding);
    expect(cosineSimilarity(viaFloat, expected)).toBeCloseTo(1, 9);
  });

  it('puts related texts close together and unrelated ones far apart', async () => {
    const question = await embed('What is the code for the blue valve?');
    const answer = await embed('The blue valves have code 4417.');
    const unrelated = await embed('Grandma bakes apple pie on Sundays.');
    expect(cosineSimilarity(question, answer)).toBeGreaterThan(0.7);
    expect(Math.abs(cosineSimilarity(question, unrelated))).toBeLessThan(0.2);
    const synonym = cosineSimilarity(await embed('my car'), await embed('an automobile'));
    expect(synonym).toBeCloseTo(1, 5);
  });

  it('honours the dimensions parameter, batches, and an override hook', async () => {
    const batch = await client.embeddings.create({ model: 'e', input: ['one', 'two'], dimensions: 64 });
    expect(batch.data.map((item) => item.embedding.length)).toEqual([64, 64]);
    expect(batch.data.map((item) => item.index)).toEqual([0, 1]);
    server.embedding.override = (text, dimensions) =>
      text.includes('secret')
        ? Array.from({ length: dimensions }, (_, index) => (index === 0 ? 3 : 0))
        : undefined;
    try {
      const overridden = await embed('the secret phrase');
      expect(overridden[0]).toBeCloseTo(1, 6);
    } finally {
      delete server.embedding.override;
    }
  });
});

describe('OpenAI fake: audio through the openai SDK', () => {
  it('transcribes a multipart upload with the scripted text and records the form', async () => {
    const wav = encodeWav(speechLikeSignal(500, 16_000), 16_000);
    server.transcripts.push('what is the code for the blue valve');
    const result = await client.audio.transcriptions.create({
      file: await toFile(wav, 'speech.wav', { type: 'audio/wav' }),
      model: 'gpt-4o-mini-transcribe',
    });
    expect(result.text).toBe('what is the code for the blue valve');
    const [recorded] = server.requestsTo('/audio/transcriptions');
    const file = recorded?.form?.file;
    expect(typeof file === 'object' && file.bytes.equals(wav)).toBe(true);
    expect(recorded?.form?.model).toBe('gpt-4o-mini-transcribe');

    const asText = await client.audio.transcriptions.create({
      file: await toFile(wav, 'speech.wav'),
      model: 'whisper-1',
      response_format: 'text',
    });
    expect(String(asText).trim()).toBe('transcription 2');
  });

  it('speaks PCM at 24 kHz with a length proportional to the words, and WAV', async () => {
    const input = 'one two three four five';
    const pcm = Buffer.from(
      await (
        await client.audio.speech.create({ model: 'tts-1', voice: 'alloy', input, response_format: 'pcm' })
      ).arrayBuffer(),
    );
    expect(pcm.length).toBe(5 * 0.06 * 24_000 * 2);
    expect(rootMeanSquare(bytesToPcm(pcm))).toBeGreaterThan(0.1);
    const wav = Buffer.from(
      await (
        await client.audio.speech.create({ model: 'tts-1', voice: 'alloy', input, response_format: 'wav' })
      ).arrayBuffer(),
    );
    expect(decodeWav(wav)).toMatchObject({ sampleRate: 24_000, channels: 1, duration: 300 });
    await expect(
      client.audio.speech.create({ model: 'tts-1', voice: 'alloy', input }),
    ).rejects.toBeInstanceOf(BadRequestError);
  });
});
