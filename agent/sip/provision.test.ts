import { RoomAgentDispatch, RoomConfiguration, SIPDispatchRuleInfo, SipClient } from 'livekit-server-sdk';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startLiveKitApiServer, type LiveKitApiServer } from '../../test/fakes/livekit-api-server.ts';
import type { LiveKitApiSettings } from './livekit-api.ts';
import { setUpSip, type SipSetupOptions } from './provision.ts';

let server: LiveKitApiServer;
let settings: LiveKitApiSettings;
beforeEach(async () => {
  server = await startLiveKitApiServer();
  // The ws:// form, as LIVEKIT_URL is usually written; the SDK turns it into http://.
  settings = { url: server.url.replace('http', 'ws'), apiKey: server.apiKey, apiSecret: server.apiSecret };
});
afterEach(() => server.close());

const NUMBER = '+15551230000';
const CALLER = '+15559870000';
const basic: SipSetupOptions = { agentName: 'assistant', numbers: [NUMBER], allowedNumbers: [CALLER] };
const methods = () => server.requests.map((request) => request.method);

describe('setUpSip', () => {
  it('creates the inbound trunk and a dispatch rule that gives each call its own room with the agent', async () => {
    const result = await setUpSip(settings, basic);

    expect(methods()).toEqual([
      'ListSIPInboundTrunk',
      'CreateSIPInboundTrunk',
      'ListSIPDispatchRule',
      'CreateSIPDispatchRule',
    ]);
    const trunkId = server.inboundTrunks[0]?.sipTrunkId;
    expect(server.requestsTo('CreateSIPInboundTrunk')[0]?.body).toEqual({
      trunk: { name: 'assistant-inbound', numbers: [NUMBER], allowedNumbers: [CALLER] },
    });
    expect(server.requestsTo('CreateSIPDispatchRule')[0]?.body).toEqual({
      rule: { dispatchRuleIndividual: { roomPrefix: 'call' } },
      trunkIds: [trunkId],
      name: 'assistant-dispatch',
      roomConfig: { agents: [{ agentName: 'assistant' }] },
    });
    expect(server.requests.every((request) => request.grants?.sip?.admin === true)).toBe(true);
    expect(result).toEqual({
      inboundTrunk: {
        name: 'assistant-inbound',
        id: trunkId,
        change: 'created',
        numbers: [NUMBER],
        allowedNumbers: [CALLER],
      },
      dispatchRule: {
        name: 'assistant-dispatch',
        id: server.dispatchRules[0]?.sipDispatchRuleId,
        change: 'created',
        roomPrefix: 'call',
        agentName: 'assistant',
      },
    });
  });

  it('changes nothing when run a second time with the same options', async () => {
    await setUpSip(settings, {
      ...basic,
      outbound: { address: 'sip.example.com', username: 'u', password: 'p' },
    });
    const before = JSON.stringify([server.inboundTrunks, server.dispatchRules, server.outboundTrunks]);
    server.requests.length = 0;

    const again = await setUpSip(settings, {
      ...basic,
      outbound: { address: 'sip.example.com', username: 'u', password: 'p' },
    });

    expect(methods()).toEqual(['ListSIPInboundTrunk', 'ListSIPDispatchRule', 'ListSIPOutboundTrunk']);
    expect(server.mutations()).toEqual([]);
    expect(JSON.stringify([server.inboundTrunks, server.dispatchRules, server.outboundTrunks])).toBe(before);
    expect([again.inboundTrunk.change, again.dispatchRule.change, again.outboundTrunk?.change]).toEqual([
      'unchanged',
      'unchanged',
      'unchanged',
    ]);
  });

  it('updates only the inbound trunk lists that differ, clearing a list with `clear`', async () => {
    await setUpSip(settings, basic);
    const trunkId = server.inboundTrunks[0]?.sipTrunkId;
    server.requests.length = 0;

    const result = await setUpSip(settings, { agentName: 'assistant', numbers: ['+15551239999'] });

    expect(server.mutations().map((request) => request.body)).toEqual([
      {
        sipTrunkId: trunkId,
        update: { numbers: { set: ['+15551239999'] }, allowedNumbers: { clear: true } },
      },
    ]);
    expect(server.inboundTrunks[0]).toMatchObject({ numbers: ['+15551239999'], allowedNumbers: [] });
    expect([result.inboundTrunk.change, result.dispatchRule.change]).toEqual(['updated', 'unchanged']);
  });

  it('replaces a dispatch rule of that name that dispatches another agent or serves another trunk', async () => {
    await setUpSip(settings, basic);
    const sip = new SipClient(server.url, server.apiKey, server.apiSecret);
    const rule = server.dispatchRules[0] as SIPDispatchRuleInfo;
    await sip.updateSipDispatchRule(
      rule.sipDispatchRuleId,
      new SIPDispatchRuleInfo({
        ...rule,
        trunkIds: ['ST_somewhere_else'],
        hidePhoneNumber: true,
        roomConfig: new RoomConfiguration({
          maxParticipants: 3,
          agents: [new RoomAgentDispatch({ agentName: 'old-agent' })],
        }),
      }),
    );
    server.requests.length = 0;

    const result = await setUpSip(settings, basic);

    expect(server.mutations().map((request) => [request.method, request.body])).toEqual([
      [
        'UpdateSIPDispatchRule',
        {
          sipDispatchRuleId: rule.sipDispatchRuleId,
          replace: {
            sipDispatchRuleId: rule.sipDispatchRuleId,
            rule: { dispatchRuleIndividual: { roomPrefix: 'call' } },
            trunkIds: [server.inboundTrunks[0]?.sipTrunkId],
            name: 'assistant-dispatch',
            // Settings of the rule that are not ours survive the replacement.
            roomConfig: { maxParticipants: 3, agents: [{ agentName: 'assistant' }] },
          },
        },
      ],
    ]);
    expect(result.dispatchRule.change).toBe('updated');
  });

  it('creates the outbound trunk with the provider address and credentials, and updates only a changed password', async () => {
    const outbound = { address: 'example.pstn.twilio.com', username: 'assistant', password: 'first' };
    const first = await setUpSip(settings, { ...basic, outbound });
    expect(server.requestsTo('CreateSIPOutboundTrunk')[0]?.body).toEqual({
      trunk: {
        name: 'assistant-outbound',
        address: 'example.pstn.twilio.com',
        numbers: [NUMBER],
        authUsername: 'assistant',
        authPassword: 'first',
      },
    });
    expect(first.outboundTrunk).toMatchObject({ change: 'created', username: 'assistant' });
    expect(JSON.stringify(first)).not.toContain('first');
    server.requests.length = 0;

    await setUpSip(settings, { ...basic, outbound: { ...outbound, password: 'second' } });

    expect(server.mutations().map((request) => [request.method, request.body])).toEqual([
      ['UpdateSIPOutboundTrunk', { sipTrunkId: first.outboundTrunk?.id, update: { authPassword: 'second' } }],
    ]);
    expect(server.outboundTrunks[0]?.authPassword).toBe('second');
  });

  it('refuses bad input before any request', async () => {
    await expect(setUpSip(settings, { agentName: 'assistant', numbers: ['555 123'] })).rejects.toThrow(
      /not E\.164.*"555 123"/,
    );
    await expect(
      setUpSip(settings, { ...basic, outbound: { address: 'sip:provider.example', username: 'u' } }),
    ).rejects.toThrow(/host name.*both a username and a password/);
    expect(server.requests).toEqual([]);
  });

  it('stops without changes when two trunks carry its name', async () => {
    const sip = new SipClient(server.url, server.apiKey, server.apiSecret);
    await sip.createSipInboundTrunk('assistant-inbound', ['+15550000001']);
    await sip.createSipInboundTrunk('assistant-inbound', ['+15550000002']);
    server.requests.length = 0;

    await expect(setUpSip(settings, basic)).rejects.toMatchObject({
      userFacing: true,
      retryable: false,
      message: expect.stringMatching(/2 inbound trunks named "assistant-inbound" \(ST_\d+, ST_\d+\)/),
    });
    expect(server.mutations()).toEqual([]);
  });

  it('says which keys to check when LiveKit refuses the token, and where when it is unreachable', async () => {
    const wrongSecret = { ...settings, apiSecret: 'a-different-secret-that-is-long-enough' };
    await expect(setUpSip(wrongSecret, basic)).rejects.toMatchObject({
      retryable: false,
      message: expect.stringMatching(
        /refused the request to list the inbound SIP trunks.*LIVEKIT_API_SECRET/,
      ),
    });
    await server.close();
    await expect(setUpSip(settings, basic)).rejects.toMatchObject({
      retryable: true,
      message: expect.stringMatching(/Could not reach LiveKit at ws:\/\/127\.0\.0\.1:\d+ .*ECONNREFUSED/),
    });
  });
});
