import { initializeLogger } from '@livekit/agents';

let initialized = false;

/**
 * The LiveKit Agents framework logs through its own pino logger, which must exist
 * before any of its objects (audio inputs, sessions) is created. Idempotent.
 */
export function initializeAgentsLogging(level = 'info'): void {
  if (initialized) return;
  initialized = true;
  initializeLogger({ pretty: false, level });
}
