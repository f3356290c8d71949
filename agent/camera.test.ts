import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { resolveUser } from '../db/index.ts';
import { VoiceHarness, waitFor } from '../test/support/voice-harness.ts';
import { CameraFrames, refersToCamera } from './camera.ts';

/** A raw RGBA frame, left half red and right half blue. */
function frame(width: number, height: number) {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const offset = (y * width + x) * 4;
      data.set(x < width / 2 ? [255, 0, 0, 255] : [0, 0, 255, 255], offset);
    }
  return { data, width, height, layout: 'rgba' as const };
}

describe('refersToCamera', () => {
  it('recognizes questions about what the user shows', () => {
    for (const text of [
      'What am I holding?',
      'can you see this',
      "what's this",
      'look at this plant',
      'What colour is it?',
    ])
      expect(refersToCamera(text), text).toBe(true);
    for (const text of ['what is my locker code', 'tell me about this week', 'I see, thanks'])
      expect(refersToCamera(text), text).toBe(false);
  });
});

describe('CameraFrames', () => {
  it('keeps at most one downscaled frame a second and forgets stale ones', async () => {
    let now = 10_000;
    const camera = new CameraFrames(() => now);
    await camera.offerRaw(frame(1280, 720));
    const first = camera.current();
    expect(first).toMatchObject({ width: 768, height: 432, takenAt: 10_000 });
    now += 400;
    expect(camera.wantsFrame()).toBe(false);
    await camera.offerRaw(frame(640, 360));
    expect(camera.current()).toBe(first);
    now += 700;
    await camera.offerRaw(frame(640, 360));
    expect(camera.current()).toMatchObject({ width: 640, height: 360 });
    now += 6000;
    expect(camera.current()).toBeUndefined();
  });
});

describe('camera stills in a conversation', () => {
  let harness: VoiceHarness;
  beforeAll(async () => {
    harness = await VoiceHarness.start();
  });
  afterAll(() => harness?.close());

  it('attaches the latest still to a turn that refers to it, and not to others', async () => {
    const userId = await resolveUser(harness.test.database.pool, { kind: 'web', value: 'camera-user' });
    const camera = new CameraFrames();
    await camera.offerRaw(frame(1920, 1080));
    harness.openai.chatResponder = (request) => ({
      text: request.images.length > 0 ? 'You are holding something red and blue.' : 'I cannot see anything.',
    });
    const { voice } = await harness.startSession(userId, { camera });
    const answers = () =>
      harness.events.flatMap((event) =>
        event.type === 'transcript' && event.role === 'assistant' && event.final ? [event.text] : [],
      );

    voice.sendText('what is the capital of France');
    await waitFor(() => answers().length === 1, 15_000, 'the first answer');
    expect(answers()[0]).toBe('I cannot see anything.');

    // A live camera keeps sending stills (the one above goes stale after 5 s, which a
    // loaded machine's first turn can take).
    await camera.offerRaw(frame(1920, 1080));
    voice.sendText('what am I holding?');
    await waitFor(() => answers().length === 2, 15_000, 'the second answer');
    expect(answers()[1]).toBe('You are holding something red and blue.');
    const request = harness.openai.chatBodies().at(-1);
    const image = JSON.stringify(request?.messages).match(/data:image\/jpeg;base64,([A-Za-z0-9+/=]+)/);
    expect(image).not.toBeNull();
    const metadata = await sharp(Buffer.from(image?.[1] ?? '', 'base64')).metadata();
    expect([metadata.format, metadata.width, metadata.height]).toEqual(['jpeg', 768, 432]);
    await voice.close();
  });
});
