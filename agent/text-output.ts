import type { voice } from '@livekit/agents';
import type { ConversationEventListener } from '../protocol/index.ts';

/**
 * The agent's live transcript for sessions without a room: text arrives in step with
 * the audio and is sent as interim assistant transcripts. The final text, with its
 * citations, comes from the transcript recorder once the message is complete.
 * (`TextOutput` is not exported by @livekit/agents 1.9; this has its shape.)
 */
export class EventTextOutput {
  private text = '';

  constructor(private readonly emit: ConversationEventListener) {}

  async captureText(text: string | voice.TimedString): Promise<void> {
    this.text += typeof text === 'string' ? text : text.text;
    this.emit({ type: 'transcript', role: 'assistant', text: this.text, final: false });
  }

  flush(): void {
    this.text = '';
  }

  onAttached(): void {}

  onDetached(): void {}
}
