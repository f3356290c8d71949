import http from 'node:http';
import { randomBytes } from 'node:crypto';

/**
 * HTTP requests with the request target sent exactly as written (no URL parsing, so no
 * normalisation of `..`, percent-encoding or slashes): what an attacker's own client
 * sends. For tests of the server's route guards.
 */
export interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** For upgrade requests: whether the server switched protocols (a socket opened). */
  upgraded: boolean;
}

export interface RawRequest {
  method: string;
  /** The request target, verbatim: `/%61pi/session`, `//api/socket`, `http://host/api/...`. */
  target: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Send a WebSocket upgrade handshake. */
  upgrade?: boolean;
}

/** Sends one request to `baseUrl`'s host and port; resolves with the answer, never rejects on a status. */
export function rawRequest(baseUrl: string, request: RawRequest): Promise<RawAnswer> {
  const { hostname, port } = new URL(baseUrl);
  const headers: Record<string, string> = { ...request.headers };
  if (request.upgrade) {
    Object.assign(headers, {
      connection: 'Upgrade',
      upgrade: 'websocket',
      'sec-websocket-version': '13',
      'sec-websocket-key': randomBytes(16).toString('base64'),
    });
  }
  if (request.body !== undefined) headers['content-length'] = String(Buffer.byteLength(request.body));
  return new Promise((resolve, reject) => {
    const outgoing = http.request({
      host: hostname,
      port: Number(port),
      method: request.method,
      path: request.target,
      headers,
      agent: false,
    });
    outgoing.once('error', reject);
    outgoing.once('upgrade', (response, socket) => {
      socket.destroy();
      resolve({ status: response.statusCode ?? 0, headers: response.headers, body: '', upgraded: true });
    });
    outgoing.once('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.once('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          upgraded: false,
        }),
      );
    });
    outgoing.end(request.body);
  });
}
