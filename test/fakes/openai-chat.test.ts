import OpenAI, { APIConnectionError, APIConnectionTimeoutError, InternalServerError } from 'openai';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { imagesInChatBody } from './openai-chat.ts';
import type { OpenAIServer } from './openai-server.ts';
import { startOpenAIServer } from './openai-server.ts';
import { now } from './timing.ts';

let server: OpenAIServer;
let client: OpenAI;

beforeAll(async () => {
  server = await startOpenAIServer({ apiKey: 'fake-key' });
  client = new OpenAI({ baseURL: server.baseUrl, apiKey: 'fake-key', maxRetries: 0 });
});
afterAll(() => server.close());
beforeEach(() => {
  server.requests.length = 0;
  server.chatReplies.length = 0;
  server.latency.chatFirstToken = 0;
});

async function collect(stream: AsyncIterable<ChatCompletionChunk>): Promise<ChatCompletionChunk[]> {
  const chunks: ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

const user = (content: string) => [{ role: 'user' as const, content }];

describe('OpenAI fake: chat completions through the openai SDK', () => {
  it('streams a scripted text in several deltas, then a usage chunk', async () => {
    server.chatReplies.push({ text: 'The blue valve code is 4417.' });
    const chunks = await collect(
      await client.chat.completions.create({
        model: 'gpt-4.1-mini',
        messages: user('What is the code for the blue valve?'),
        stream: true,
        stream_options: { include_usage: true },
      }),
    );
    const deltas = chunks.flatMap((chunk) => chunk.choices.map((choice) => choice.delta.content ?? ''));
    expect(deltas.filter(Boolean).length).toBeGreaterThanOrEqual(5);
    expect(deltas.join('')).toBe('The blue valve code is 4417.');
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('stop');
    expect(chunks.at(-1)?.choices).toEqual([]);
    expect(chunks.at(-1)?.usage?.completion_tokens).toBe(6);
    const [recorded] = server.requestsTo('/chat/completions');
    expect(recorded?.headers.authorization).toBe('Bearer fake-key');
    expect(server.chatBodies()[0]?.messages).toEqual(user('What is the code for the blue valve?'));
  });

  it('streams tool calls the way OpenAI does: id and name first, arguments in pieces', async () => {
    server.chatReplies.push({
      toolCalls: [{ name: 'lookup_valve', arguments: { color: 'blue', site: 'north plant' } }],
    });
    const chunks = await collect(
      await client.chat.completions.create({
        model: 'gpt-4.1-mini',
        messages: user('blue valve?'),
        tools: [{ type: 'function', function: { name: 'lookup_valve', parameters: { type: 'object' } } }],
        stream: true,
      }),
    );
    const calls = chunks.flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? []);
    expect(calls[0]).toMatchObject({ index: 0, id: 'call_fake_1', type: 'function' });
    expect(calls[0]?.function?.name).toBe('lookup_valve');
    expect(calls.slice(1).every((call) => call.id === undefined && call.function?.name === undefined)).toBe(
      true,
    );
    expect(calls.length).toBeGreaterThan(3);
    const argumentsText = calls.map((call) => call.function?.arguments ?? '').join('');
    expect(JSON.parse(argumentsText)).toEqual({ color: 'blue', site: 'north plant' });
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('tool_calls');
  });

  it('answers without streaming, and the default responder echoes the user', async () => {
    const completion = await client.chat.completions.create({ model: 'm', messages: user('hello there') });
    expect(completion.choices[0]?.message.content).toBe('You said: hello there');
    server.chatResponder = (request) => ({
      toolCalls: [{ name: request.toolNames[0] ?? 'none', arguments: '{}' }],
    });
    try {
      const withTools = await client.chat.completions.create({
        model: 'm',
        messages: user('x'),
        tools: [{ type: 'function', function: { name: 'erase_me', parameters: {} } }],
      });
      expect(withTools.choices[0]?.message.tool_calls?.[0]).toMatchObject({ function: { name: 'erase_me' } });
    } finally {
      server.chatResponder = (await import('./openai-chat.ts')).echoResponder;
    }
  });

  it('records image parts intact so tests can decode the bytes', async () => {
    const image = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 254, 255]);
    await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in this picture?' },
            {
              type: 'image_url',
              image_url: { url: `data:image/png;base64,${image.toString('base64')}`, detail: 'low' },
            },
          ],
        },
      ],
    });
    const body = server.chatBodies()[0];
    expect(body).toBeDefined();
    const [decoded] = imagesInChatBody(body!);
    expect(decoded?.mimeType).toBe('image/png');
    expect(decoded?.detail).toBe('low');
    expect(decoded?.bytes.equals(image)).toBe(true);
  });

  it('waits the configured first-token latency', async () => {
    server.latency.chatFirstToken = 150;
    const started = now();
    const stream = await client.chat.completions.create({ model: 'm', messages: user('hi'), stream: true });
    for await (const chunk of stream) {
      expect(chunk.choices[0]?.delta.role).toBe('assistant');
      break;
    }
    expect(now() - started).toBeGreaterThanOrEqual(145);
  });

  it('fails with a status, drops mid-stream, and stalls until the client gives up', async () => {
    server.failNext('chat', { kind: 'status', status: 500, message: 'boom' });
    await expect(client.chat.completions.create({ model: 'm', messages: user('a') })).rejects.toBeInstanceOf(
      InternalServerError,
    );

    server.chatReplies.push({ text: 'one two three four', fault: { kind: 'drop', afterChunks: 2 } });
    const dropped = await client.chat.completions.create({ model: 'm', messages: user('b'), stream: true });
    const received: string[] = [];
    await expect(
      (async () => {
        for await (const chunk of dropped) received.push(chunk.choices[0]?.delta.content ?? '');
      })(),
    ).rejects.toThrow();
    expect(received.join('')).toBe('one');

    server.failNext('chat', { kind: 'stall' });
    await expect(
      client.chat.completions.create({ model: 'm', messages: user('c') }, { timeout: 200 }),
    ).rejects.toBeInstanceOf(APIConnectionTimeoutError);
    expect(server.requestsTo('/chat/completions')).toHaveLength(3);
  });

  it('refuses a wrong key and unknown paths the way OpenAI does', async () => {
    const stranger = new OpenAI({ baseURL: server.baseUrl, apiKey: 'wrong', maxRetries: 0 });
    await expect(stranger.models.list()).rejects.toMatchObject({ status: 401, code: 'invalid_api_key' });
    const models = await client.models.list();
    expect(models.data.map((model) => model.id)).toContain('text-embedding-3-small');
    await expect(client.get('/nowhere')).rejects.toMatchObject({ status: 404 });
  });

  it('closes promptly while a request stalls', async () => {
    const stalling = await startOpenAIServer();
    stalling.failNext('embeddings', { kind: 'stall' });
    const stalled = new OpenAI({ baseURL: stalling.baseUrl, apiKey: 'k', maxRetries: 0 });
    const pending = stalled.embeddings.create({ model: 'e', input: 'x' });
    await expect.poll(() => stalling.requests.length).toBe(1);
    const started = now();
    await stalling.close();
    expect(now() - started).toBeLessThan(200);
    await expect(pending).rejects.toBeInstanceOf(APIConnectionError);
  });
});
