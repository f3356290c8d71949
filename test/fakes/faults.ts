/**
 * Fault injection shared by the fakes. A fault is armed for the next request (or the
 * next connection) and used once, so a test can script "the first call fails, the
 * retry succeeds" without timing tricks.
 */

/** A failure of an HTTP endpoint. */
export type HttpFault =
  /** Answer with this status and an OpenAI-style error body. */
  | { kind: 'status'; status: number; message?: string; type?: string; code?: string }
  /**
   * Destroy the socket. For streamed replies, after `afterChunks` chunks were written
   * (default 0: before any byte of the reply).
   */
  | { kind: 'drop'; afterChunks?: number }
  /** Send nothing more, after `afterChunks` chunks (default 0), until the client or the fake closes. */
  | { kind: 'stall'; afterChunks?: number };

/** A failure of a WebSocket service. */
export type SocketFault =
  /** Refuse the handshake with this HTTP status (401 for a bad key, 429, 503...). */
  | { kind: 'reject'; status: number; message?: string }
  /**
   * Close the socket with this close code (1011 internal error, 1008 policy...) once
   * `afterMessages` messages were received from the client (default 0: right after opening).
   */
  | { kind: 'close'; code: number; reason?: string; afterMessages?: number }
  /** Accept and record everything, never answer. */
  | { kind: 'stall' };

/** The OpenAI error body for a status fault, shaped like the real service's. */
export function openAIErrorBody(fault: Extract<HttpFault, { kind: 'status' }>): unknown {
  return {
    error: {
      message: fault.message ?? `fake failure with status ${fault.status}`,
      type: fault.type ?? (fault.status >= 500 ? 'server_error' : 'invalid_request_error'),
      param: null,
      code: fault.code ?? null,
    },
  };
}
