import { AccessToken, SipCallError, SipClient, TwirpError } from 'livekit-server-sdk';
import type { SIPGrant, VideoGrant } from 'livekit-server-sdk';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startLiveKitApiServer, type LiveKitApiServer } from './livekit-api-server.ts';

let server: LiveKitApiServer;
beforeEach(async () => {
  server = await startLiveKitApiServer();
});
afterEach(() => server.close());

async function token(grants: { video?: VideoGrant; sip?: SIPGrant }, secret = server.apiSecret) {
  const access = new AccessToken(server.apiKey, secret, { ttl: 60 });
  if (grants.video) access.addGrant(grants.video);
  if (grants.sip) access.addSIPGrant(grants.sip);
  return access.toJwt();
}

/** A raw Twirp call, to see exactly what the fake answers on the wire. */
async function twirp(path: string, body: unknown, bearer?: string, contentType = 'application/json') {
  const response = await fetch(`${server.url}/twirp/livekit.${path}`, {
    method: 'POST',
    headers: { 'content-type': contentType, ...(bearer && { authorization: `Bearer ${bearer}` }) },
    body: JSON.stringify(body),
  });
  const json = (await response.json()) as { items?: Record<string, unknown>[] } & Record<string, unknown>;
  return { status: response.status, type: response.headers.get('content-type'), json };
}

describe('LiveKit API fake', () => {
  it('keeps trunks the SDK creates and answers in the Go server encoding (snake_case, defaults emitted)', async () => {
    const sip = new SipClient(server.url, server.apiKey, server.apiSecret);
    const created = await sip.createSipInboundTrunk('main', ['+15551230000'], {
      allowedNumbers: ['+15559870000'],
    });
    expect(created.sipTrunkId).toMatch(/^ST_\d{12}$/);
    expect((await sip.listSipInboundTrunk()).map((trunk) => trunk.name)).toEqual(['main']);

    const raw = await twirp('SIP/ListSIPInboundTrunk', {}, await token({ sip: { admin: true } }));
    expect(raw.status).toBe(200);
    expect(raw.json.items?.[0]).toMatchObject({
      sip_trunk_id: created.sipTrunkId,
      name: 'main',
      numbers: ['+15551230000'],
      allowed_numbers: ['+15559870000'],
      allowed_addresses: [],
      auth_username: '',
    });
    expect(server.requestsTo('CreateSIPInboundTrunk')[0]).toMatchObject({
      service: 'SIP',
      body: { trunk: { name: 'main', numbers: ['+15551230000'], allowedNumbers: ['+15559870000'] } },
      grants: { iss: server.apiKey, sip: { admin: true } },
      status: 200,
    });
  });

  it('answers 401 without a token, with a token signed by another secret, and without the needed grant', async () => {
    const list = 'SIP/ListSIPInboundTrunk';
    expect(await twirp(list, {})).toMatchObject({ status: 401, json: { code: 'unauthenticated' } });
    const forged = await token({ sip: { admin: true } }, 'another-secret-of-at-least-32-characters');
    expect(await twirp(list, {}, forged)).toMatchObject({ status: 401, json: { msg: 'invalid token' } });
    expect(await twirp(list, {}, await token({ sip: { call: true } }))).toMatchObject({ status: 401 });
    const otherRoom = await token({ video: { roomAdmin: true, room: 'room-a' } });
    expect(
      await twirp('AgentDispatchService/CreateDispatch', { room: 'room-b', agentName: 'x' }, otherRoom),
    ).toMatchObject({ status: 401 });
    expect(server.dispatches).toEqual([]);

    const wrongSecret = new SipClient(server.url, server.apiKey, 'not-the-secret-but-long-enough-to-sign');
    await expect(wrongSecret.listSipInboundTrunk()).rejects.toMatchObject({ status: 401 });
  });

  it('refuses unknown methods and non-JSON bodies as Twirp bad_route, with the JSON content type the SDK expects', async () => {
    const admin = await token({ sip: { admin: true } });
    const unknown = await twirp('SIP/CreateSomethingElse', {}, admin);
    expect(unknown).toEqual({
      status: 404,
      type: 'application/json',
      json: expect.objectContaining({ code: 'bad_route' }),
    });
    expect(await twirp('SIP/ListSIPInboundTrunk', {}, admin, 'application/protobuf')).toMatchObject({
      status: 404,
      json: { code: 'bad_route' },
    });
  });

  it('validates list updates and trunk conflicts like livekit/protocol', async () => {
    const sip = new SipClient(server.url, server.apiKey, server.apiSecret);
    const trunk = await sip.createSipInboundTrunk('main', ['+15551230000']);
    const admin = await token({ sip: { admin: true } });
    const empty = await twirp(
      'SIP/UpdateSIPInboundTrunk',
      { sipTrunkId: trunk.sipTrunkId, update: { numbers: {} } },
      admin,
    );
    expect(empty).toMatchObject({
      status: 400,
      json: { code: 'invalid_argument', msg: 'unsupported list update operation' },
    });
    await expect(sip.createSipInboundTrunk('copy', ['+1 555 123 0000'])).rejects.toBeInstanceOf(TwirpError);
    await expect(sip.createSipInboundTrunk('copy', ['+1 555 123 0000'])).rejects.toMatchObject({
      status: 400,
    });

    const updated = await twirp(
      'SIP/UpdateSIPInboundTrunk',
      {
        sip_trunk_id: trunk.sipTrunkId,
        update: { allowed_numbers: { add: ['+15550000001'] }, name: 'renamed' },
      },
      admin,
    );
    expect(updated.json).toMatchObject({
      name: 'renamed',
      numbers: ['+15551230000'],
      allowed_numbers: ['+15550000001'],
    });
  });

  it('fails the next call of a method as scripted, e.g. a busy callee', async () => {
    const sip = new SipClient(server.url, server.apiKey, server.apiSecret);
    const trunk = await sip.createSipOutboundTrunk('out', 'sip.example.com', ['+15551230000']);
    server.failNext('CreateSIPParticipant', {
      code: 'unavailable',
      message: 'callee is busy',
      meta: { sip_status_code: '486', sip_status: 'Busy Here' },
    });
    const failure = await sip.createSipParticipant(trunk.sipTrunkId, '+15557654321', 'room').catch((e) => e);
    expect(failure).toBeInstanceOf(SipCallError);
    expect((failure as SipCallError).sipStatusCode).toBe(486);
    const second = await sip.createSipParticipant(trunk.sipTrunkId, '+15557654321', 'room');
    expect(second.participantIdentity).toBe('sip-participant');
    expect(server.participants.map((p) => p.roomName)).toEqual(['room']);
  });

  it('transfers only participants that are in the room', async () => {
    const sip = new SipClient(server.url, server.apiKey, server.apiSecret);
    server.addSipParticipant('call-1', 'sip_+15551230000');
    await expect(
      sip.transferSipParticipant('call-1', 'sip_+19999999999', 'tel:+15557654321'),
    ).rejects.toMatchObject({
      status: 404,
    });
    await sip.transferSipParticipant('call-1', 'sip_+15551230000', 'tel:+15557654321');
    expect(server.participants).toEqual([]);
  });

  it('waits latencyMs before answering', async () => {
    server.latencyMs = 120;
    const sip = new SipClient(server.url, server.apiKey, server.apiSecret);
    const started = performance.now();
    await sip.listSipDispatchRule();
    expect(performance.now() - started).toBeGreaterThanOrEqual(115);
  });
});
