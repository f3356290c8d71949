import { voice } from '@livekit/agents';
import { RetrievalPrefetch } from '../retrieval-prefetch.ts';
import type { TurnTakingDetector } from './detector.ts';

/**
 * Feeds every user transcript (interim and final) to the turn-taking decision, and
 * starts the retrieval on the words heard while the user is still speaking (see
 * `retrieval-prefetch.ts`), also when they fall silent before the final comes.
 */
export function followUserTranscripts(
  session: voice.AgentSession,
  turnTaking: TurnTakingDetector,
  assistant: { prefetchRetrieval(text: string, superseded: () => boolean): Promise<unknown> },
): void {
  const prefetch = new RetrievalPrefetch((text, superseded) => assistant.prefetchRetrieval(text, superseded));
  session.on(voice.AgentSessionEventTypes.UserInputTranscribed, (event) => {
    turnTaking.observeTranscript(event.transcript, event.isFinal, event.language);
    prefetch.observe(turnTaking.heardText, event.isFinal);
  });
  turnTaking.onDecision((signals) => prefetch.silence(signals.text, signals.textIsFinal));
}
