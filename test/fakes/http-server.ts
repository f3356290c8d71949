import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { now } from './timing.ts';

/** A file part of a multipart form, as a fake received it. */
export interface RecordedFile {
  name: string;
  type: string;
  bytes: Buffer;
}

/** One HTTP request as a fake received it, kept whole so tests can assert on anything. */
export interface RecordedHttpRequest {
  method: string;
  /** Path without the query string, e.g. `/v1/chat/completions`. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body; `undefined` when the body was not JSON. */
  body: unknown;
  /** Multipart form fields, when the body was `multipart/form-data`. */
  form?: Record<string, string | RecordedFile>;
  rawBody: Buffer;
  /** `performance.now()` when the request arrived, in milliseconds. */
  receivedAt: number;
}

/** What a request handler gets besides Node's request and response. */
export interface HandlerContext {
  /** Aborted when the client goes away or the server closes: stop writing then. */
  signal: AbortSignal;
}

export type RequestHandler = (
  request: IncomingMessage,
  response: ServerResponse,
  context: HandlerContext,
) => void | Promise<void>;

/** A listening HTTP server on 127.0.0.1 with a random port that closes promptly. */
export interface FakeHttpServer {
  readonly server: Server;
  readonly port: number;
  /** `http://127.0.0.1:PORT`, without a trailing slash. */
  readonly origin: string;
  /** Aborted when `close()` starts, so delayed and stalled replies end at once. */
  readonly closing: AbortSignal;
  /** Destroys every open socket (HTTP and upgraded WebSocket alike) and stops listening. */
  close(): Promise<void>;
}

/**
 * Starts an HTTP server on 127.0.0.1, port 0. It tracks every socket itself because
 * `server.close()` alone waits for keep-alive and WebSocket connections to end, which
 * would let a stalled fake hold a test open.
 */
export async function startHttpServer(handler: RequestHandler): Promise<FakeHttpServer> {
  const sockets = new Set<Socket>();
  const closingController = new AbortController();
  const server = createServer((request, response) => {
    const requestController = new AbortController();
    response.once('close', () => requestController.abort(new Error('client went away')));
    const signal = AbortSignal.any([closingController.signal, requestController.signal]);
    Promise.resolve()
      .then(() => handler(request, response, { signal }))
      .catch((error: unknown) => {
        if (signal.aborted) return;
        if (response.headersSent) response.destroy();
        else sendJson(response, 500, { error: { message: String(error), type: 'server_error' } });
      });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;
  return {
    server,
    port,
    origin: `http://127.0.0.1:${port}`,
    closing: closingController.signal,
    close() {
      closed ??= new Promise<void>((resolve) => {
        closingController.abort(new Error('fake server closed'));
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return closed;
    },
  };
}

/** Reads a whole request body. */
export async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Parses a body as JSON when the request says it is JSON; `undefined` otherwise or if it is malformed. */
export function parseJsonBody(request: IncomingMessage, rawBody: Buffer): unknown {
  if (!String(request.headers['content-type'] ?? '').includes('json') || rawBody.length === 0)
    return undefined;
  try {
    return JSON.parse(rawBody.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** Parses a `multipart/form-data` body with the platform's own parser (undici's `Request`). */
export async function parseMultipartForm(
  headers: IncomingHttpHeaders,
  rawBody: Buffer,
): Promise<Record<string, string | RecordedFile>> {
  const contentType = String(headers['content-type'] ?? '');
  const form = await new Request('http://fake.invalid/', {
    method: 'POST',
    headers: { 'content-type': contentType },
    body: new Uint8Array(rawBody),
  }).formData();
  const fields: Record<string, string | RecordedFile> = {};
  for (const [name, value] of form.entries()) {
    fields[name] =
      typeof value === 'string'
        ? value
        : { name: value.name, type: value.type, bytes: Buffer.from(await value.arrayBuffer()) };
  }
  return fields;
}

/** Reads and records a request: body, parsed JSON or form, query, headers and arrival time. */
export async function recordRequest(request: IncomingMessage): Promise<RecordedHttpRequest> {
  const receivedAt = now();
  const url = new URL(request.url ?? '/', 'http://fake.invalid');
  const rawBody = await readBody(request);
  const recorded: RecordedHttpRequest = {
    method: request.method ?? 'GET',
    path: url.pathname,
    query: url.searchParams,
    headers: request.headers,
    body: parseJsonBody(request, rawBody),
    rawBody,
    receivedAt,
  };
  if (String(request.headers['content-type'] ?? '').startsWith('multipart/form-data')) {
    recorded.form = await parseMultipartForm(request.headers, rawBody);
  }
  return recorded;
}

/** Sends a JSON reply. */
export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}

/** Refuses a WebSocket upgrade with an HTTP status and a JSON body, as real services do. */
export function rejectUpgrade(socket: Duplex, status: number, message: string): void {
  const body = JSON.stringify({ error: message });
  socket.end(
    `HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : 'Error'}\r\n` +
      'Content-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}
