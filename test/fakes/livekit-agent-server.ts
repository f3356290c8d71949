/**
 * A wire-level fake of what a LiveKit server offers agent workers: the `/agent` WebSocket
 * (protobuf `WorkerMessage` in, `ServerMessage` out, a Bearer JWT with the `agent` grant)
 * and the room signalling endpoint `/rtc` a job connects to with its job token. Workers
 * are registered as the real server does (a worker id and server info in return); tests
 * then script what the server would send (availability requests, assignments,
 * terminations) and read every decoded message the worker sent. Room connections are
 * recorded with their verified token and refused, since no media server runs here: that
 * is how a job that cannot join its room is tested.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  AvailabilityRequest,
  Job,
  JobAssignment,
  JobTermination,
  JobType,
  RegisterWorkerResponse,
  Room,
  ServerInfo,
  ServerInfo_Edition,
  ServerMessage,
  WorkerMessage,
  WorkerPong,
  type AvailabilityResponse,
  type RegisterWorkerRequest,
} from '@livekit/protocol';
import { AccessToken, TokenVerifier, type ClaimGrants } from 'livekit-server-sdk';
import { WebSocketServer, type WebSocket } from 'ws';
import { rejectUpgrade, sendJson, startHttpServer } from './http-server.ts';
import { fakeLiveKitCredentials } from './livekit-api-server.ts';
import { now, waitFor } from './timing.ts';

/** One worker connection to `/agent`, as the fake saw it. */
export interface FakeWorkerConnection {
  /** Claims of the verified Bearer token. */
  grants: ClaimGrants;
  /** The worker id the fake gave it. */
  workerId: string;
  /** Every message the worker sent, decoded, in order. */
  messages: WorkerMessage[];
  /** The registration request (the first message), once received. */
  registration: RegisterWorkerRequest | undefined;
  /** `performance.now()` when the socket closed, in milliseconds. */
  closedAt: number | undefined;
  /** Sends an availability request for a job and waits for the worker's answer (default 10 s). */
  requestAvailability(job: Job, timeout?: number): Promise<AvailabilityResponse>;
  /** Assigns an accepted job, as the server does after a positive availability answer. */
  assign(job: Job, assignment: { url: string; token: string }): void;
  /** Tells the worker to end a job. */
  terminate(jobId: string): void;
  /** Closes the socket from the server's side. */
  close(code?: number): void;
}

/** One attempt to join a room through `/rtc`. */
export interface RoomConnectAttempt {
  /** Path as requested, e.g. `/rtc` or `/rtc/validate`. */
  path: string;
  /** Claims of the `access_token` (query) or Bearer token, verified; undefined when it did not verify. */
  grants: ClaimGrants | undefined;
  /** HTTP status the fake refused it with. */
  status: number;
  receivedAt: number;
}

/** Settings of the fake; every field has a default. */
export interface LiveKitAgentServerOptions {
  /** Defaults to `fakeLiveKitCredentials.apiKey`. */
  apiKey?: string;
  /** Defaults to `fakeLiveKitCredentials.apiSecret`. */
  apiSecret?: string;
}

/** The running fake. */
export interface LiveKitAgentServer {
  /** `ws://127.0.0.1:PORT`: what LIVEKIT_URL is set to, and the room URL of assignments. */
  url: string;
  apiKey: string;
  apiSecret: string;
  /** Every worker connection, in order, including refused-token ones (not listed). */
  workers: FakeWorkerConnection[];
  /** Every `/agent` upgrade refused (bad or missing token), with the status sent. */
  refusedWorkers: { status: number; reason: string }[];
  /** Every attempt to join a room. */
  roomConnectAttempts: RoomConnectAttempt[];
  /** Waits until a worker has registered (the n-th, default the first) and returns it. */
  registeredWorker(index?: number, timeout?: number): Promise<FakeWorkerConnection>;
  /** A room job as the server would dispatch it to `agentName`. */
  roomJob(agentName: string, options?: { roomName?: string; metadata?: string }): Job;
  /** A join token for a job's participant, as the server puts it in the assignment. */
  jobToken(job: Job, identity: string): Promise<string>;
  close(): Promise<void>;
}

/** Starts the fake on 127.0.0.1 with a random port. */
export async function startLiveKitAgentServer(
  options: LiveKitAgentServerOptions = {},
): Promise<LiveKitAgentServer> {
  const apiKey = options.apiKey ?? fakeLiveKitCredentials.apiKey;
  const apiSecret = options.apiSecret ?? fakeLiveKitCredentials.apiSecret;
  const verifier = new TokenVerifier(apiKey, apiSecret);
  const verify = (token: string | undefined | null) =>
    token ? verifier.verify(token).catch(() => undefined) : Promise.resolve(undefined);
  const workers: FakeWorkerConnection[] = [];
  const refusedWorkers: { status: number; reason: string }[] = [];
  const roomConnectAttempts: RoomConnectAttempt[] = [];
  const sockets = new Set<WebSocket>();
  let jobCount = 0;

  const refuseRoom = async (path: string, token: string | null | undefined): Promise<number> => {
    const grants = await verify(token);
    // What a LiveKit server without a reachable media node would say: unavailable.
    const status = grants ? 503 : 401;
    roomConnectAttempts.push({ path, grants, status, receivedAt: now() });
    return status;
  };

  const http = await startHttpServer(async (request, response) => {
    const url = new URL(request.url ?? '/', 'http://fake.invalid');
    if (url.pathname.startsWith('/rtc')) {
      const status = await refuseRoom(
        url.pathname,
        url.searchParams.get('access_token') ?? bearerOf(request),
      );
      return sendJson(response, status, { error: 'no media server runs in this fake' });
    }
    sendJson(response, 404, { error: 'not found' });
  });
  const webSockets = new WebSocketServer({ noServer: true });
  http.server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(request.url ?? '/', 'http://fake.invalid');
    const bearer = bearerOf(request);
    void (async () => {
      if (url.pathname.startsWith('/rtc')) {
        const status = await refuseRoom(url.pathname, url.searchParams.get('access_token') ?? bearer);
        return rejectUpgrade(socket, status, 'no media server runs in this fake');
      }
      if (url.pathname !== '/agent') return rejectUpgrade(socket, 404, 'not found');
      const grants = await verify(bearer);
      if (!grants?.video?.agent) {
        const reason = grants ? 'token lacks the agent grant' : 'missing or invalid token';
        refusedWorkers.push({ status: 401, reason });
        return rejectUpgrade(socket, 401, reason);
      }
      webSockets.handleUpgrade(request, socket, head, (webSocket) => {
        sockets.add(webSocket);
        webSocket.once('close', () => sockets.delete(webSocket));
        workers.push(serveWorker(webSocket, grants, `AW_fake${workers.length + 1}`));
      });
    })();
  });

  return {
    url: `ws://127.0.0.1:${http.port}`,
    apiKey,
    apiSecret,
    workers,
    refusedWorkers,
    roomConnectAttempts,
    registeredWorker(index = 0, timeout = 30_000) {
      return waitFor(() => (workers[index]?.registration ? workers[index] : undefined), {
        timeout,
        message: `no worker #${index + 1} registered within ${timeout} ms`,
      });
    },
    roomJob(agentName, jobOptions = {}) {
      jobCount += 1;
      const roomName = jobOptions.roomName ?? `fake-room-${jobCount}`;
      return new Job({
        id: `AJ_fake${jobCount}`,
        dispatchId: `AD_fake${jobCount}`,
        type: JobType.JT_ROOM,
        room: new Room({ sid: `RM_fake${jobCount}`, name: roomName }),
        agentName,
        metadata: jobOptions.metadata ?? '',
      });
    },
    async jobToken(job, identity) {
      const token = new AccessToken(apiKey, apiSecret, { identity, ttl: '10m' });
      token.addGrant({ roomJoin: true, room: job.room?.name ?? '', agent: true });
      return token.toJwt();
    },
    async close() {
      for (const socket of sockets) socket.terminate();
      webSockets.close();
      await http.close();
    },
  };
}

function bearerOf(request: IncomingMessage): string | undefined {
  return /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
}

function serveWorker(socket: WebSocket, grants: ClaimGrants, workerId: string): FakeWorkerConnection {
  const send = (message: ServerMessage['message']) => socket.send(new ServerMessage({ message }).toBinary());
  const connection: FakeWorkerConnection = {
    grants,
    workerId,
    messages: [],
    registration: undefined,
    closedAt: undefined,
    async requestAvailability(job, timeout = 10_000) {
      const answered = connection.messages.length;
      send({ case: 'availability', value: new AvailabilityRequest({ job }) });
      return waitFor(
        () => {
          for (const message of connection.messages.slice(answered)) {
            if (message.message.case === 'availability' && message.message.value.jobId === job.id)
              return message.message.value;
          }
          return undefined;
        },
        { timeout, message: `the worker did not answer the availability request for ${job.id}` },
      );
    },
    assign(job, assignment) {
      send({ case: 'assignment', value: new JobAssignment({ job, ...assignment }) });
    },
    terminate(jobId) {
      send({ case: 'termination', value: new JobTermination({ jobId }) });
    },
    close(code = 1000) {
      socket.close(code);
    },
  };
  socket.on('message', (data: Buffer) => {
    const message = WorkerMessage.fromBinary(new Uint8Array(data));
    connection.messages.push(message);
    if (message.message.case === 'register' && !connection.registration) {
      connection.registration = message.message.value;
      send({
        case: 'register',
        value: new RegisterWorkerResponse({
          workerId,
          serverInfo: new ServerInfo({ edition: ServerInfo_Edition.Standard, version: '1.9.0-fake' }),
        }),
      });
    }
    if (message.message.case === 'ping')
      send({
        case: 'pong',
        value: new WorkerPong({
          lastTimestamp: message.message.value.timestamp,
          timestamp: BigInt(Date.now()),
        }),
      });
  });
  socket.once('close', () => {
    connection.closedAt = now();
  });
  return connection;
}
