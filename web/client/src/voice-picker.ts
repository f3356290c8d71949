import type { VoiceOption } from '../../../protocol/index.ts';
import { chooseVoice, fetchVoicePreview, listVoices } from './api.ts';
import { elements } from './view.ts';

/** "George (british, male)": what the list shows of a voice. */
function voiceLabel(voice: VoiceOption): string {
  return voice.description ? `${voice.name} (${voice.description})` : voice.name;
}

/**
 * The voice picker (a closed `<details>` in the side column): the voices of the configured
 * text to speech, a preview of the selected one, and "Use this voice", which the server
 * remembers for this person and the conversation uses from its next answer. When the list
 * cannot be had it says so; opening the picker again retries. The voice in use never changes
 * on a failure.
 */
export class VoicePicker {
  private voices: VoiceOption[] = [];
  private current: string | undefined;
  private sample: { audio: HTMLAudioElement; url: string } | undefined;

  /** @param chosen called after a choice was saved (LiveKit: the agent is told). */
  constructor(private readonly chosen: () => void) {
    elements.voicePicker.addEventListener('toggle', () => {
      if (elements.voicePicker.open && this.voices.length === 0) void this.load();
    });
    elements.voicePreview.addEventListener('click', () => void this.preview());
    elements.voiceForm.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.choose();
    });
  }

  /** Loads the list and the voice in use. */
  async load(): Promise<void> {
    elements.voicePicker.hidden = false;
    this.status('Loading the voices…');
    try {
      const { voices, current } = await listVoices();
      this.voices = voices;
      this.current = current;
    } catch (error) {
      this.voices = [];
      this.status(`${messageOf(error)} Open this again to retry.`, 'error');
      this.render();
      return;
    }
    this.render();
    this.status('');
  }

  private render(): void {
    const options = this.voices.map((voice) => {
      const option = document.createElement('option');
      option.value = voice.id;
      option.textContent = voiceLabel(voice);
      option.selected = voice.id === this.current;
      return option;
    });
    elements.voiceSelect.replaceChildren(...options);
    for (const control of [elements.voiceSelect, elements.voicePreview, elements.voiceChoose])
      control.disabled = options.length === 0;
    const current = this.voices.find((voice) => voice.id === this.current);
    elements.voiceSummary.textContent = current ? `Voice: ${current.name}` : 'Voice';
  }

  private selected(): VoiceOption | undefined {
    return this.voices.find((voice) => voice.id === elements.voiceSelect.value);
  }

  private async preview(): Promise<void> {
    const voice = this.selected();
    if (!voice) return;
    this.status(`Getting a sample of ${voice.name}…`);
    try {
      const url = URL.createObjectURL(await fetchVoicePreview(voice.id));
      this.sample?.audio.pause();
      if (this.sample) URL.revokeObjectURL(this.sample.url);
      this.sample = { audio: new Audio(url), url };
      await this.sample.audio.play();
      this.status(`Playing a sample of ${voice.name}.`);
    } catch (error) {
      this.status(messageOf(error), 'error');
    }
  }

  private async choose(): Promise<void> {
    const voice = this.selected();
    if (!voice) return;
    elements.voiceChoose.disabled = true;
    try {
      await chooseVoice(voice.id);
      this.current = voice.id;
      this.render();
      this.status(`The assistant answers in ${voice.name} from its next answer on.`);
      this.chosen();
    } catch (error) {
      this.status(`${messageOf(error)} Your voice was not changed.`, 'error');
    } finally {
      elements.voiceChoose.disabled = this.voices.length === 0;
    }
  }

  private status(message: string, kind: 'info' | 'error' = 'info'): void {
    elements.voiceStatus.textContent = message;
    elements.voiceStatus.dataset.kind = kind;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error && error.message ? error.message : 'Something went wrong.';
}
