/**
 * The one contract between the agent, the server and the page: conversation events,
 * the direct-mode WebSocket messages, the HTTP bodies, the LiveKit topics and the base
 * error type. It imports nothing of ours and uses no Node-only API, so the browser
 * bundle, the server and the agent all import it.
 */
export * from './citations.ts';
export * from './direct-socket.ts';
export * from './errors.ts';
export * from './events.ts';
export * from './http.ts';
export * from './livekit.ts';
