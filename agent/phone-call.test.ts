import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLinkCode, resolveUser, storeMemory } from '../db/index.ts';
import { startLiveKitApiServer, type LiveKitApiServer } from '../test/fakes/livekit-api-server.ts';
import { resample } from '../test/fakes/espeak-speech.ts';
import { speak, speechFixture, VoiceHarness, waitFor } from '../test/support/voice-harness.ts';
import { identityOfParticipant } from './participant-identity.ts';
import { liveKitCallControl } from './phone-call.ts';

const CALLER = '+15550001234';
const ROOM = `call_${CALLER}_x7Kq`;
const CALLER_IDENTITY = `sip_${CALLER}`;
const PERSON = '+15559990000';

/** A fixture as a phone line delivers it: 8 kHz narrowband. */
function telephone(name: string) {
  const audio = speechFixture(name);
  return { samples: resample(audio.samples, audio.sampleRate, 8000), sampleRate: 8000 };
}

describe('a phone call through a room-less session', () => {
  let harness: VoiceHarness;
  let livekit: LiveKitApiServer;

  beforeAll(async () => {
    harness = await VoiceHarness.start();
    livekit = await startLiveKitApiServer();
  });
  afterAll(async () => {
    await harness?.close();
    await livekit?.close();
  });

  it('greets the caller, recalls their memories by number, transfers on 0 and hangs up on goodbye', async () => {
    const pool = harness.test.database.pool;
    // The SIP participant as LiveKit SIP presents it.
    const identity = identityOfParticipant({
      identity: CALLER_IDENTITY,
      isSip: true,
      attributes: {
        'sip.phoneNumber': CALLER,
        'sip.trunkPhoneNumber': '+15550009999',
        'sip.callStatus': 'active',
      },
      dispatchMetadata: undefined,
    });
    expect(identity).toEqual({ kind: 'phone', value: CALLER });
    const userId = await resolveUser(pool, identity);
    const [embedding] = await harness.embedder.embed(['Their locker code is 4312.']);
    await storeMemory(pool, {
      userId,
      kind: 'fact',
      text: 'Their locker code is 4312.',
      embedding: embedding ?? null,
      embeddingModel: 'test',
    });
    livekit.addSipParticipant(ROOM, CALLER_IDENTITY);

    harness.openai.chatResponder = (request) => {
      const context = JSON.stringify(request.body.messages);
      if (request.toolResult !== undefined) return { text: '' };
      if (context.includes('The caller pressed 0 to reach a person')) {
        return {
          text: 'Connecting you to a person now.',
          toolCalls: [{ name: 'transfer_to_human', arguments: {} }],
        };
      }
      const link = /link my account code (\d{8})/.exec(request.lastUserText);
      if (link) return { toolCalls: [{ name: 'link_web_account', arguments: { code: link[1] ?? '' } }] };
      if (/goodbye/i.test(request.lastUserText))
        return { text: 'Goodbye!', toolCalls: [{ name: 'end_call', arguments: {} }] };
      return { text: /locker code is 4312/.test(context) ? 'Your locker code is 4312.' : 'I do not know.' };
    };
    const call = liveKitCallControl(
      { url: livekit.url, apiKey: livekit.apiKey, apiSecret: livekit.apiSecret },
      { roomName: ROOM, participantIdentity: CALLER_IDENTITY, transferNumber: PERSON },
    );
    const { voice, input } = await harness.startSession(userId, {
      channel: 'phone',
      call,
      greeting: undefined,
    });
    const spoken = () =>
      harness.elevenlabs.connections.flatMap((connection) =>
        connection.contexts.map((context) => context.text),
      );

    // The phone greeting.
    await waitFor(
      () => spoken().some((text) => text.includes("you've reached the assistant")),
      10_000,
      'the phone greeting',
    );

    // 8 kHz speech; the caller's memory is recalled by their number.
    harness.deepgram.transcripts.push('what is my locker code');
    await speak(input, telephone('ask-locker'));
    await waitFor(
      () => spoken().some((text) => text.includes('Your locker code is 4312')),
      20_000,
      'the recalled answer',
    );
    const asked = harness.openai
      .chatBodies()
      .find((body) => JSON.stringify(body.messages).includes('what is my locker code'));
    expect(JSON.stringify(asked?.messages)).toContain('Their locker code is 4312.');
    expect(JSON.stringify(asked?.messages)).toContain('You are on a phone call');
    expect(harness.deepgram.connections.at(-1)?.query.get('sample_rate')).toBeDefined();

    // DTMF 0: the model is asked to transfer, calls the tool, and LiveKit gets the SIP REFER.
    voice.pressKey('0');
    await waitFor(() => livekit.requestsTo('TransferSIPParticipant')[0], 20_000, 'the transfer request');
    expect(livekit.requestsTo('TransferSIPParticipant')[0]?.body).toMatchObject({
      roomName: ROOM,
      participantIdentity: CALLER_IDENTITY,
      transferTo: `tel:${PERSON}`,
    });

    // The caller links their web account by reading the code the web page showed.
    const web = await resolveUser(pool, { kind: 'web', value: 'browser-of-the-caller' });
    const { code } = await createLinkCode(pool, web);
    harness.deepgram.transcripts.push(`link my account code ${code}`);
    await speak(input, telephone('ask-locker'));
    await waitFor(
      async () => (await resolveUser(pool, { kind: 'web', value: 'browser-of-the-caller' })) === userId,
      20_000,
      'the link',
    );

    // Goodbye: a short goodbye, then the call ends.
    livekit.addSipParticipant(ROOM, CALLER_IDENTITY);
    harness.deepgram.transcripts.push("thanks that's all goodbye");
    await speak(input, telephone('goodbye'));
    await waitFor(() => livekit.requestsTo('RemoveParticipant')[0], 20_000, 'the hang-up');
    expect(livekit.requestsTo('RemoveParticipant')[0]?.body).toMatchObject({
      room: ROOM,
      identity: CALLER_IDENTITY,
    });
    expect(spoken().some((text) => text.includes('Goodbye!'))).toBe(true);
    await voice.close();
  });
});
