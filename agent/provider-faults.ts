import { voice } from '@livekit/agents';
import type { Logger } from 'pino';
import type { ConversationEventListener } from '../protocol/index.ts';
import { APOLOGY } from './instructions.ts';

/** How long after an interrupted apology the agent must still be idle for it to be said again. */
const APOLOGY_RECHECK_MS = 300;

/**
 * A provider that fails after its retries (HTTP 500, dropped socket, stall) becomes a
 * short spoken apology and an error event; the conversation goes on.
 */
export class ProviderFaults {
  private session: voice.AgentSession | undefined;
  /** The apology being spoken, if any: errors while it is pending are part of the same failure. */
  private apology: voice.SpeechHandle | undefined;

  constructor(
    private readonly emit: ConversationEventListener,
    private readonly logger: Logger | undefined,
    private readonly onFailure: (provider: string, error: Error | undefined) => void,
  ) {}

  attach(session: voice.AgentSession): void {
    this.session = session;
    session.on(voice.AgentSessionEventTypes.Error, (event) => {
      const error = event.error as { type?: string; recoverable?: boolean; error?: Error };
      if (!error.recoverable) this.report(error.type ?? 'provider', error.error);
    });
    session.on(voice.AgentSessionEventTypes.UserInputTranscribed, (event) => {
      if (event.isFinal) this.userTurnStarted();
    });
  }

  /**
   * The user said or typed something new: a failure from here on belongs to their new
   * turn and is owed its own apology, even while the previous one is still playing out
   * (an interrupted apology can stay pending for a while).
   */
  userTurnStarted(): void {
    this.apology = undefined;
  }

  report(provider: string, error: Error | undefined): void {
    this.logger?.error({ err: error, provider }, 'provider failure in a live conversation');
    this.onFailure(provider, error);
    this.emit({
      type: 'error',
      message: 'The assistant had a problem with one of its services. Please try again.',
    });
    // One apology per failure: errors while one is still pending (a retry failing too,
    // two providers failing together) share it. A time window would also swallow the
    // apology owed to the next turn when that failed soon after (seen with 20 sessions).
    if (!this.session || (this.apology && !this.apology.done())) return;
    this.apologize(true);
  }

  /**
   * Speaks the apology. A failure of the reply generated early (while the end of the turn
   * was still being decided) is apologized for at once, and the end of that same turn then
   * interrupts the apology as "a new user turn" and reuses the failed reply: nothing would
   * be said. So an apology interrupted while the user is not speaking is said again once,
   * unless the agent is by then answering (thinking or speaking) after all.
   */
  private apologize(again: boolean): void {
    const session = this.session;
    if (!session) return;
    let apology: voice.SpeechHandle;
    try {
      apology = session.say(APOLOGY, { allowInterruptions: true, addToChatCtx: false });
    } catch (sayError) {
      this.logger?.warn({ err: sayError }, 'could not speak the apology');
      return;
    }
    this.apology = apology;
    if (!again) return;
    apology.addDoneCallback(() => {
      if (!apology.interrupted || session.userState === 'speaking') return;
      setTimeout(() => {
        const owed = this.apology === apology && session.userState !== 'speaking';
        if (owed && session.agentState === 'listening') this.apologize(false);
      }, APOLOGY_RECHECK_MS);
    });
  }
}
