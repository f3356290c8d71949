import { initializeLogger, llm } from '@livekit/agents';
import * as openai from '@livekit/agents-plugin-openai';
import { AudioFrame } from '@livekit/rtc-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { rootMeanSquare, speechLikeSignal } from './audio-signal.ts';
import { imagesInChatBody } from './openai-chat.ts';
import type { OpenAIServer } from './openai-server.ts';
import { startOpenAIServer } from './openai-server.ts';

let server: OpenAIServer;

beforeAll(async () => {
  initializeLogger({ pretty: false, level: 'warn' });
  server = await startOpenAIServer({ apiKey: 'fake-key' });
});
afterAll(() => server.close());

function userContext(content: llm.ChatContent[] | string): llm.ChatContext {
  const context = llm.ChatContext.empty();
  context.addMessage({ role: 'user', content });
  return context;
}

const model = () => new openai.LLM({ baseURL: server.baseUrl, apiKey: 'fake-key', model: 'gpt-4.1-mini' });

describe('OpenAI fake with @livekit/agents-plugin-openai', () => {
  it('streams a reply into chat chunks', async () => {
    server.chatReplies.push({ text: 'The blue valve code is 4417.' });
    const texts: string[] = [];
    for await (const chunk of model().chat({
      chatCtx: userContext('What is the code for the blue valve?'),
    })) {
      if (chunk.delta?.content) texts.push(chunk.delta.content);
    }
    expect(texts.length).toBeGreaterThan(1);
    expect(texts.join('')).toBe('The blue valve code is 4417.');
    const body = server.chatBodies().at(-1);
    expect(body).toMatchObject({
      model: 'gpt-4.1-mini',
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(body?.messages.at(-1)).toMatchObject({
      role: 'user',
      content: 'What is the code for the blue valve?',
    });
  });

  it('turns a streamed tool call into one function call with the whole arguments', async () => {
    server.chatReplies.push({ toolCalls: [{ name: 'lookup_valve', arguments: { color: 'blue' } }] });
    const tools = {
      lookup_valve: llm.tool({
        description: 'Find the code of a valve by color.',
        parameters: z.object({ color: z.string() }),
        execute: async ({ color }) => `code of ${color}`,
      }),
    };
    const response = await model()
      .chat({ chatCtx: userContext('blue valve?'), toolCtx: tools })
      .collect();
    expect(response.toolCalls).toHaveLength(1);
    expect(response.toolCalls[0]).toMatchObject({ name: 'lookup_valve', callId: 'call_fake_1' });
    expect(JSON.parse(response.toolCalls[0]?.args ?? '')).toEqual({ color: 'blue' });
    const offered = server
      .chatBodies()
      .at(-1)
      ?.tools?.map((tool) => tool.function.name);
    expect(offered).toEqual(['lookup_valve']);
  });

  it('delivers image content as a data URL the test can decode', async () => {
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
    const image = llm.createImageContent({ image: `data:image/png;base64,${png.toString('base64')}` });
    await model()
      .chat({ chatCtx: userContext(['What is this?', image]) })
      .collect();
    const body = server.chatBodies().at(-1);
    const images = body ? imagesInChatBody(body) : [];
    expect(images).toHaveLength(1);
    expect(images[0]?.bytes.equals(png)).toBe(true);
  });

  it('serves the plugin TTS (24 kHz PCM) and STT (WAV upload)', async () => {
    const speaker = new openai.TTS({ baseURL: server.baseUrl, apiKey: 'fake-key' });
    // Five words of 60 ms: a whole number of the plugin's 100 ms frames, because the plugin
    // (1.9.0) never flushes its byte stream and drops a trailing partial frame.
    const frame = await speaker.synthesize('hello from the fake server').collect();
    expect(frame.sampleRate).toBe(24_000);
    expect(frame.samplesPerChannel).toBe(5 * 0.06 * 24_000);
    expect(rootMeanSquare(frame.data)).toBeGreaterThan(0.1);
    expect(server.requestsTo('/audio/speech').at(-1)?.body).toMatchObject({ response_format: 'pcm' });

    server.transcripts.push('open the blue valve');
    const listener = new openai.STT({ baseURL: server.baseUrl, apiKey: 'fake-key', model: 'whisper-1' });
    const samples = speechLikeSignal(400, 16_000);
    const event = await listener.recognize([new AudioFrame(samples, 16_000, 1, samples.length)]);
    expect(event.alternatives?.[0]?.text).toBe('open the blue valve');
    expect(server.requestsTo('/audio/transcriptions').at(-1)?.form?.response_format).toBe('json');
  });
});
