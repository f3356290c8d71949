/**
 * The voice half of `npm start`, loaded once its web server answers (app/serve.ts): the
 * LiveKit Agents framework and its plugins, the voice session and the worker. Their
 * imports are the larger part of a start (LiveKit Agents alone took about half a second
 * here), and the page, uploads and the API need none of them, so `/healthz` answers
 * without waiting for them; a conversation started meanwhile waits for this module.
 */
export { initializeAgentsLogging } from '../agent/logging.ts';
export { loadSharedModels, type SharedModels } from '../agent/voice-session.ts';
export { checkWorkerHealthPort, runWorker } from '../agent/worker.ts';
export { voiceConversations } from '../web/server/voice-conversation.ts';
