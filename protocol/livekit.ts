/**
 * Topics used in LiveKit mode, besides LiveKit's reserved ones (`lk.chat`,
 * `lk.transcription`, `lk.agent.session`).
 */

/** Byte-stream topic on which the page sends files to the agent. */
export const LIVEKIT_UPLOAD_TOPIC = 'assistant.upload';

/**
 * Text-stream topic on which the agent sends {@link ConversationEvent}s as JSON (final
 * answers with citations, turn timings, upload progress, errors): what LiveKit's own
 * transcriptions and attributes do not carry.
 */
export const LIVEKIT_EVENTS_TOPIC = 'assistant.events';

/**
 * Text-stream topic on which the page tells the agent that the person chose another voice
 * (after `POST /api/voice` succeeded); the text is a {@link VoiceChangedMessage} as JSON.
 * The agent reads the choice itself from the database, so the message names no voice.
 */
export const LIVEKIT_VOICE_TOPIC = 'assistant.voice';

/** The page's announcement on {@link LIVEKIT_VOICE_TOPIC}. */
export interface VoiceChangedMessage {
  type: 'voice_changed';
}
