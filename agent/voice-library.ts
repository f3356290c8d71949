import { AppError, type VoiceOption } from '../protocol/index.ts';

/**
 * The voices a text-to-speech provider offers, and a short sample of one. Adapters:
 * agent/elevenlabs-voices.ts (the ElevenLabs voice library through its SDK) and
 * agent/openai-voices.ts (OpenAI's built-in voices, or TTS_VOICES); agent/providers.ts
 * picks one. {@link VoiceCatalog} adds caching and validation on top.
 */
export interface VoiceLibrary {
  readonly provider: 'elevenlabs' | 'openai';
  /** The voice used when a person chose none (ELEVENLABS_VOICE_ID or TTS_VOICE). */
  readonly defaultVoiceId: string;
  list(): Promise<VoiceOption[]>;
  /** `text` spoken in `voiceId`, as a WAV file a browser plays. */
  synthesizeSample(voiceId: string, text: string): Promise<Buffer>;
}

/** What a preview says: short (previews cost money), and sounds like an answer. */
export const PREVIEW_TEXT = 'Hello! This is how I will sound when I answer you.';

/** The provider's voice list could not be had; the voice in use keeps working. */
export class VoicesUnavailableError extends AppError<'voices-unavailable'> {
  constructor(cause: unknown) {
    super(
      'voices-unavailable',
      'The list of voices could not be loaded from the speech service. Your current voice keeps working; try again in a moment.',
      { userFacing: true, retryable: true, cause },
    );
  }
}

/** A voice id that is not among the voices offered. */
export class UnknownVoiceError extends AppError<'unknown-voice'> {
  constructor(voiceId: string) {
    super(
      'unknown-voice',
      `There is no voice "${voiceId.slice(0, 80)}" here. Choose one of the voices listed.`,
      { userFacing: true, retryable: false },
    );
  }
}

/** The provider failed to speak a preview. */
export class VoicePreviewError extends AppError<'voice-preview-failed'> {
  constructor(cause: unknown) {
    super('voice-preview-failed', 'The preview could not be made. Try again in a moment.', {
      userFacing: true,
      retryable: true,
      cause,
    });
  }
}

export interface VoiceCatalogOptions {
  /** How long a fetched voice list is reused, in ms (default five minutes). */
  listTtlMs?: number;
  /** Previews kept in memory (about 150 KB each; default 32). */
  previewCacheSize?: number;
  now?: () => number;
}

/**
 * The voices people may choose from: the provider's list, fetched at most once per
 * `listTtlMs` (a failed fetch is not kept, so the next request tries again), the check
 * that a chosen id is one of them, and previews cached per (voice, text) so a voice
 * previewed twice is paid for once.
 */
export class VoiceCatalog {
  private listed: { at: number; voices: Promise<VoiceOption[]> } | undefined;
  private readonly previews = new Map<string, Promise<Buffer>>();
  private readonly listTtlMs: number;
  private readonly previewCacheSize: number;
  private readonly now: () => number;

  constructor(
    private readonly library: VoiceLibrary,
    options: VoiceCatalogOptions = {},
  ) {
    this.listTtlMs = options.listTtlMs ?? 5 * 60_000;
    this.previewCacheSize = options.previewCacheSize ?? 32;
    this.now = options.now ?? Date.now;
  }

  get provider(): VoiceLibrary['provider'] {
    return this.library.provider;
  }

  get defaultVoiceId(): string {
    return this.library.defaultVoiceId;
  }

  /** The voices on offer. Throws {@link VoicesUnavailableError} when the provider fails. */
  list(): Promise<VoiceOption[]> {
    const at = this.now();
    if (!this.listed || at - this.listed.at > this.listTtlMs) {
      const voices = this.library.list().catch((error: unknown) => {
        if (this.listed?.voices === voices) this.listed = undefined;
        throw new VoicesUnavailableError(error);
      });
      this.listed = { at, voices };
    }
    return this.listed.voices;
  }

  /** The voice with this id; {@link UnknownVoiceError} when it is not on offer. */
  async find(voiceId: string): Promise<VoiceOption> {
    const voices = await this.list();
    const voice = voices.find((candidate) => candidate.id === voiceId);
    if (voice) return voice;
    // The configured default is valid even when a library does not list it.
    if (voiceId === this.defaultVoiceId) return { id: voiceId, name: voiceId };
    throw new UnknownVoiceError(voiceId);
  }

  /** A WAV of {@link PREVIEW_TEXT} in a voice on offer. */
  async preview(voiceId: string, text = PREVIEW_TEXT): Promise<Buffer> {
    await this.find(voiceId);
    const key = `${voiceId}\n${text}`;
    let sample = this.previews.get(key);
    if (sample) {
      // Most recently used last: the first entry is the one to drop.
      this.previews.delete(key);
      this.previews.set(key, sample);
      return sample;
    }
    sample = this.library.synthesizeSample(voiceId, text).catch((error: unknown) => {
      this.previews.delete(key);
      throw new VoicePreviewError(error);
    });
    this.previews.set(key, sample);
    while (this.previews.size > this.previewCacheSize) {
      const oldest = this.previews.keys().next().value as string;
      this.previews.delete(oldest);
    }
    return sample;
  }
}
