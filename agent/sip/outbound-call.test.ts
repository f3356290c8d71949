import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startLiveKitApiServer, type LiveKitApiServer } from '../../test/fakes/livekit-api-server.ts';
import type { LiveKitApiSettings } from './livekit-api.ts';
import { placeOutboundCall } from './outbound-call.ts';
import { setUpSip } from './provision.ts';

let server: LiveKitApiServer;
let settings: LiveKitApiSettings;
beforeEach(async () => {
  server = await startLiveKitApiServer();
  settings = { url: server.url, apiKey: server.apiKey, apiSecret: server.apiSecret };
});
afterEach(() => server.close());

const OWN_NUMBER = '+15551230000';
const CALLEE = '+15557654321';

async function withOutboundTrunk(): Promise<string> {
  const result = await setUpSip(settings, {
    agentName: 'assistant',
    numbers: [OWN_NUMBER],
    outbound: { address: 'sip.provider.example', username: 'user', password: 'secret' },
  });
  server.requests.length = 0;
  return result.outboundTrunk?.id ?? '';
}

describe('placeOutboundCall', () => {
  it('dispatches the agent into a new room with the number, then dials it through the outbound trunk', async () => {
    const trunkId = await withOutboundTrunk();

    const call = await placeOutboundCall(settings, { agentName: 'assistant', phoneNumber: CALLEE });

    expect(call.roomName).toMatch(/^call_out_[0-9a-f]{12}$/);
    expect(server.requests.map((request) => request.method)).toEqual([
      'ListSIPOutboundTrunk',
      'CreateDispatch',
      'CreateSIPParticipant',
    ]);
    expect(server.requestsTo('CreateDispatch')[0]).toMatchObject({
      service: 'AgentDispatchService',
      body: {
        agentName: 'assistant',
        room: call.roomName,
        metadata: JSON.stringify({ phoneNumber: CALLEE }),
      },
      grants: { video: { roomAdmin: true, room: call.roomName } },
    });
    expect(server.requestsTo('CreateSIPParticipant')[0]?.body).toEqual({
      sipTrunkId: trunkId,
      sipCallTo: CALLEE,
      roomName: call.roomName,
      participantIdentity: `sip_${CALLEE}`,
      participantName: CALLEE,
      ringingTimeout: '30s',
      waitUntilAnswered: true,
    });
    expect(call).toEqual({
      roomName: call.roomName,
      dispatchId: server.dispatches[0]?.id,
      participantIdentity: `sip_${CALLEE}`,
      sipCallId: server.participants[0]?.sipCallId,
    });
  });

  it('gives each call a room of its own', async () => {
    await withOutboundTrunk();
    const first = await placeOutboundCall(settings, { agentName: 'assistant', phoneNumber: CALLEE });
    const second = await placeOutboundCall(settings, { agentName: 'assistant', phoneNumber: CALLEE });
    expect(first.roomName).not.toBe(second.roomName);
  });

  it('reports a busy callee with its SIP status and deletes the room it made', async () => {
    await withOutboundTrunk();
    server.failNext('CreateSIPParticipant', {
      code: 'unavailable',
      message: 'INVITE failed',
      meta: { sip_status_code: '486', sip_status: 'Busy Here' },
    });

    const failure = placeOutboundCall(settings, {
      agentName: 'assistant',
      phoneNumber: CALLEE,
      roomName: 'r1',
    });

    await expect(failure).rejects.toMatchObject({
      userFacing: true,
      retryable: true,
      message: `Could not call ${CALLEE}: the phone network answered SIP 486 Busy Here.`,
    });
    expect(server.requestsTo('DeleteRoom').map((request) => request.body)).toEqual([{ room: 'r1' }]);
    expect(server.rooms.has('r1')).toBe(false);
  });

  it('says how to create the outbound trunk when there is none, before dispatching anything', async () => {
    await expect(
      placeOutboundCall(settings, { agentName: 'assistant', phoneNumber: CALLEE }),
    ).rejects.toThrow(/no outbound SIP trunk named "assistant-outbound".*npm run sip:setup -- .* --outbound/);
    await expect(
      placeOutboundCall(settings, { agentName: 'assistant', phoneNumber: '5557654321' }),
    ).rejects.toThrow(/not an E\.164/);
    expect(server.mutations()).toEqual([]);
  });
});
