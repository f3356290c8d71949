import type { LanguageCode } from '@livekit/agents';

/**
 * The words of the user's current turn as the STT delivered them: the final transcripts
 * since the last committed turn, then the latest interim after them (as the framework
 * builds its own transcript of the turn).
 */
export class TurnTranscript {
  private finals = '';
  private interim = '';
  private lastLanguage: LanguageCode | undefined;

  observe(text: string, isFinal: boolean, language?: LanguageCode | null): void {
    if (language) this.lastLanguage = language;
    if (isFinal) {
      if (text.trim() !== '') this.finals = `${this.finals} ${text.trim()}`.trim();
      this.interim = '';
    } else {
      this.interim = text.trim();
    }
  }

  /** Everything heard in this turn so far. */
  get text(): string {
    return this.interim === '' ? this.finals : `${this.finals} ${this.interim}`.trim();
  }

  /** Whether the last words heard are final (no interim after the finals). */
  get isFinal(): boolean {
    return this.interim === '' && this.finals !== '';
  }

  /** The language the STT reported last, if any. */
  get language(): LanguageCode | undefined {
    return this.lastLanguage;
  }

  /** A new turn begins. */
  reset(): void {
    this.finals = '';
    this.interim = '';
  }
}
