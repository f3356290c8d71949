import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startLiveKitApiServer, type LiveKitApiServer } from '../../test/fakes/livekit-api-server.ts';
import type { LiveKitApiSettings } from './livekit-api.ts';
import { transferCall } from './transfer.ts';

let server: LiveKitApiServer;
let settings: LiveKitApiSettings;
beforeEach(async () => {
  server = await startLiveKitApiServer();
  settings = { url: server.url, apiKey: server.apiKey, apiSecret: server.apiSecret };
});
afterEach(() => server.close());

describe('transferCall', () => {
  it('asks LiveKit to transfer the caller to a tel: URI, with room admin and SIP call grants', async () => {
    server.addSipParticipant('call_+15559870000_abc', 'sip_+15559870000');

    await transferCall(settings, {
      roomName: 'call_+15559870000_abc',
      participantIdentity: 'sip_+15559870000',
      phoneNumber: '+15551112222',
    });

    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]).toMatchObject({
      service: 'SIP',
      method: 'TransferSIPParticipant',
      body: {
        participantIdentity: 'sip_+15559870000',
        roomName: 'call_+15559870000_abc',
        transferTo: 'tel:+15551112222',
        ringingTimeout: '30s',
      },
      grants: { video: { roomAdmin: true, room: 'call_+15559870000_abc' }, sip: { call: true } },
    });
    expect(Object.keys(server.requests[0]?.body ?? {})).not.toContain('playDialtone');
    expect(server.participants).toEqual([]);
  });

  it('refuses a number that is not E.164 without a request, and reports a caller who already left', async () => {
    const options = { roomName: 'room', participantIdentity: 'sip_+15559870000' };
    await expect(transferCall(settings, { ...options, phoneNumber: '0800 123' })).rejects.toThrow(/E\.164/);
    expect(server.requests).toEqual([]);
    await expect(transferCall(settings, { ...options, phoneNumber: '+15551112222' })).rejects.toMatchObject({
      retryable: false,
      message: expect.stringMatching(
        /could not transfer the call to \+15551112222: participant does not exist/,
      ),
    });
  });
});
