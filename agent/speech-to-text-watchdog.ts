import { voice } from '@livekit/agents';

/** How long after the user stops speaking a transcript may take before the STT counts as dead. */
const SILENCE_TIMEOUT_MS = 3000;
/** Shorter sounds are noises (coughs, clicks) that a recognizer rightly ignores. */
const MIN_SPEECH_MS = 600;

/**
 * Notices a speech-to-text connection that died without telling anyone. Some STT
 * plugins (Deepgram 1.9) only log a socket the server closed and never reconnect, so
 * the session would silently stop hearing the user. When the VAD heard real speech and
 * not a single transcript (interim or final) arrived for it, `onDead` is called; the
 * caller apologizes and restarts recognition.
 */
export function watchSpeechToText(session: voice.AgentSession, onDead: (speechMs: number) => void): void {
  let speechStartedAt: number | undefined;
  let transcribed = false;
  let timer: NodeJS.Timeout | undefined;
  session.on(voice.AgentSessionEventTypes.UserInputTranscribed, (event) => {
    if (event.transcript.trim() !== '') transcribed = true;
  });
  session.on(voice.AgentSessionEventTypes.UserStateChanged, (event) => {
    if (event.newState === 'speaking') {
      if (timer) clearTimeout(timer);
      timer = undefined;
      // A new stretch of speech after a transcript starts a new check.
      if (speechStartedAt === undefined || transcribed) {
        speechStartedAt = Date.now();
        transcribed = false;
      }
      return;
    }
    if (event.oldState !== 'speaking' || speechStartedAt === undefined) return;
    const speechMs = Date.now() - speechStartedAt;
    if (transcribed || speechMs < MIN_SPEECH_MS) {
      speechStartedAt = undefined;
      return;
    }
    timer = setTimeout(() => {
      timer = undefined;
      if (!transcribed && speechStartedAt !== undefined) {
        speechStartedAt = undefined;
        onDead(speechMs);
      }
    }, SILENCE_TIMEOUT_MS);
  });
  session.on(voice.AgentSessionEventTypes.Close, () => {
    if (timer) clearTimeout(timer);
  });
}
