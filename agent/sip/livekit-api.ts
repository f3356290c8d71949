/**
 * Access to LiveKit's server API for the phone bridge, and the one error type it raises.
 * The SDK speaks Twirp (JSON over HTTP POST with a short-lived JWT signed by the API
 * secret) to the same URL the agent worker connects to.
 */
import {
  AgentDispatchClient,
  RoomServiceClient,
  ServerError,
  SipCallError,
  SipClient,
} from 'livekit-server-sdk';
import { ConfigError } from '../../config/load.ts';
import { AppError } from '../../protocol/index.ts';

/** Where LiveKit is and how to sign requests: `Config['livekit']` has this shape. */
export interface LiveKitApiSettings {
  /** `wss://project.livekit.cloud`, `ws://livekit:7880`... (`ws` is turned into `http` by the SDK). */
  readonly url: string;
  readonly apiKey: string;
  readonly apiSecret: string;
}

/** The SDK clients the phone bridge uses. */
export interface LiveKitClients {
  readonly sip: SipClient;
  readonly dispatch: AgentDispatchClient;
  readonly rooms: RoomServiceClient;
}

/** Creates the SDK clients for one LiveKit deployment (LiveKit Cloud or self-hosted). */
export function liveKitClients(settings: LiveKitApiSettings): LiveKitClients {
  const { url, apiKey, apiSecret } = settings;
  return {
    sip: new SipClient(url, apiKey, apiSecret),
    dispatch: new AgentDispatchClient(url, apiKey, apiSecret),
    rooms: new RoomServiceClient(url, apiKey, apiSecret),
  };
}

/**
 * The LiveKit settings of the configuration, or a {@link ConfigError} saying what to set
 * when `LIVEKIT_URL` is missing: phone features need a LiveKit server, the embedded
 * transport has none.
 */
export function requireLiveKit(livekit: LiveKitApiSettings | undefined, command: string): LiveKitApiSettings {
  if (livekit) return livekit;
  throw new ConfigError(
    `LIVEKIT_URL is not set, and \`${command}\` talks to a LiveKit server. Set LIVEKIT_URL, ` +
      'LIVEKIT_API_KEY and LIVEKIT_API_SECRET in the environment or in .env: your LiveKit Cloud ' +
      "project's URL and keys, or ws://localhost:7880 and the keys in .env for this repository's docker compose.",
  );
}

/**
 * A failed phone-bridge operation, with a message written for the user. `retryable` is
 * true when trying again later may work (LiveKit unreachable or failing, callee busy).
 */
export class LiveKitError extends AppError<'livekit'> {
  constructor(message: string, retryable: boolean, options?: { cause?: unknown }) {
    super('livekit', message, { userFacing: true, retryable, cause: options?.cause });
  }
}

/** SIP statuses after which calling again later may work: busy, no answer, unavailable. */
const RETRYABLE_SIP_STATUSES = new Set([408, 480, 486, 503, 600]);

/**
 * Runs one API call and turns any failure into a {@link LiveKitError} that says what was
 * being done (`action`, e.g. "create the inbound trunk") and what to check.
 */
export async function callLiveKit<T>(
  settings: LiveKitApiSettings,
  action: string,
  run: () => Promise<T>,
): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw describeFailure(settings, action, error);
  }
}

function describeFailure(settings: LiveKitApiSettings, action: string, error: unknown): LiveKitError {
  if (error instanceof LiveKitError) return error;
  const cause = { cause: error };
  if (error instanceof SipCallError && error.sipStatusCode !== undefined) {
    const status = `${error.sipStatusCode}${error.sipStatus ? ` ${error.sipStatus}` : ''}`;
    return new LiveKitError(
      `Could not ${action}: the phone network answered SIP ${status}.`,
      RETRYABLE_SIP_STATUSES.has(error.sipStatusCode),
      cause,
    );
  }
  if (error instanceof ServerError) {
    if (error.status === 401 || error.status === 403)
      return new LiveKitError(
        `LiveKit at ${settings.url} refused the request to ${action} (${error.message}). ` +
          'Check that LIVEKIT_API_KEY and LIVEKIT_API_SECRET belong to this LiveKit deployment.',
        false,
        cause,
      );
    const code = error.code ? `${error.code}, ` : '';
    return new LiveKitError(
      `LiveKit could not ${action}: ${error.message} (${code}HTTP ${error.status}).`,
      error.status >= 500,
      cause,
    );
  }
  const reason = error instanceof Error ? describeNetworkError(error) : String(error);
  return new LiveKitError(
    `Could not reach LiveKit at ${settings.url} to ${action} (${reason}). ` +
      'Check LIVEKIT_URL and that the server is running.',
    true,
    cause,
  );
}

function describeNetworkError(error: Error): string {
  if (error.name === 'TimeoutError') return 'no answer in time';
  const cause = error.cause as { code?: string; message?: string } | undefined;
  return cause?.code ?? cause?.message ?? error.message;
}
