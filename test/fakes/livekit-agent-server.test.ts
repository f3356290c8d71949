import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AvailabilityResponse, JobType, ServerMessage, WorkerMessage } from '@livekit/protocol';
import { AccessToken } from 'livekit-server-sdk';
import WebSocket from 'ws';
import { startLiveKitAgentServer, type LiveKitAgentServer } from './livekit-agent-server.ts';

/** A worker's side of the `/agent` socket, by hand: what the fake must accept and refuse. */
describe('the LiveKit agent server fake', () => {
  let livekit: LiveKitAgentServer;
  beforeAll(async () => {
    livekit = await startLiveKitAgentServer();
  });
  afterAll(() => livekit.close());

  const token = (
    grant: { agent?: boolean; roomJoin?: boolean; room?: string },
    secret = livekit.apiSecret,
  ) => {
    const access = new AccessToken(livekit.apiKey, secret, { identity: 'someone' });
    access.addGrant(grant);
    return access.toJwt();
  };
  const open = (jwt: string | undefined, path = '/agent') =>
    new Promise<WebSocket>((resolve, reject) => {
      const socket = new WebSocket(`${livekit.url}${path}`, {
        headers: jwt ? { authorization: `Bearer ${jwt}` } : {},
      });
      socket.once('open', () => resolve(socket));
      socket.once('unexpected-response', (_request, response) =>
        reject(new Error(`HTTP ${response.statusCode}`)),
      );
      socket.once('error', reject);
    });

  it('refuses a worker without a token, with another secret, or without the agent grant', async () => {
    await expect(open(undefined)).rejects.toThrow('HTTP 401');
    await expect(
      open(await token({ agent: true }, 'another-secret-of-forty-characters-long!!')),
    ).rejects.toThrow('HTTP 401');
    await expect(open(await token({ roomJoin: true }))).rejects.toThrow('HTTP 401');
    expect(livekit.refusedWorkers.map((refusal) => refusal.reason)).toEqual([
      'missing or invalid token',
      'missing or invalid token',
      'token lacks the agent grant',
    ]);
    expect(livekit.workers).toEqual([]);
  });

  it('registers a worker, relays availability and records what it sent', async () => {
    const socket = await open(await token({ agent: true }));
    const received: ServerMessage[] = [];
    socket.on('message', (data: Buffer) => {
      const message = ServerMessage.fromBinary(new Uint8Array(data));
      received.push(message);
      if (message.message.case === 'availability') {
        const jobId = message.message.value.job?.id ?? '';
        const answer = new AvailabilityResponse({ jobId, available: true, participantIdentity: 'agent-1' });
        socket.send(new WorkerMessage({ message: { case: 'availability', value: answer } }).toBinary());
      }
    });
    socket.send(
      new WorkerMessage({
        message: { case: 'register', value: { type: JobType.JT_ROOM, agentName: 'x' } },
      }).toBinary(),
    );
    const worker = await livekit.registeredWorker();
    expect(worker.registration?.agentName).toBe('x');

    const job = livekit.roomJob('x', { roomName: 'kitchen' });
    const answer = await worker.requestAvailability(job);
    expect(answer).toMatchObject({ jobId: job.id, available: true, participantIdentity: 'agent-1' });
    expect(received.map((message) => message.message.case)).toEqual(['register', 'availability']);
    expect(received[0]?.message.value).toMatchObject({ workerId: worker.workerId });
    socket.close();
  });

  it('records a room join with its verified job token and refuses it', async () => {
    const job = livekit.roomJob('x', { roomName: 'hall' });
    await expect(
      open(
        await livekit.jobToken(job, 'agent-2'),
        `/rtc/v1?access_token=${await livekit.jobToken(job, 'agent-2')}`,
      ),
    ).rejects.toThrow('HTTP 503');
    await expect(open(undefined, '/rtc/v1?access_token=forged')).rejects.toThrow('HTTP 401');
    expect(
      livekit.roomConnectAttempts.map(({ status, grants }) => ({
        status,
        room: grants?.video?.room,
        identity: grants?.sub,
      })),
    ).toEqual([
      { status: 503, room: 'hall', identity: 'agent-2' },
      { status: 401, room: undefined, identity: undefined },
    ]);
  });
});
