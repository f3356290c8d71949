import type { AgentState } from '../../../protocol/index.ts';
import { citationLabel } from '../../../protocol/index.ts';
import type { TranscriptLine } from './transcript.ts';
import { citationPlayControl } from './citation-playback.ts';
import { renderWaterfall } from './waterfall.ts';

/** The page's elements (index.html), looked up once. */
function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`index.html has no #${id}`);
  return element as T;
}

export const elements = {
  status: byId('status'),
  statusText: byId('status-text'),
  alert: byId('alert'),
  alertText: byId('alert-text'),
  alertClose: byId<HTMLButtonElement>('alert-close'),
  setup: byId('setup'),
  setupList: byId<HTMLUListElement>('setup-list'),
  accessForm: byId<HTMLFormElement>('access-form'),
  accessKey: byId<HTMLInputElement>('access-key'),
  transcript: byId<HTMLOListElement>('transcript'),
  emptyHint: byId('empty-hint'),
  cameraBox: byId('camera-box'),
  cameraPreview: byId<HTMLVideoElement>('camera-preview'),
  uploads: byId<HTMLUListElement>('uploads'),
  textForm: byId<HTMLFormElement>('text-form'),
  textInput: byId<HTMLInputElement>('text-input'),
  send: byId<HTMLButtonElement>('send'),
  connect: byId<HTMLButtonElement>('connect'),
  microphone: byId<HTMLButtonElement>('microphone'),
  meter: byId('meter-fill').parentElement as HTMLElement,
  meterFill: byId('meter-fill'),
  camera: byId<HTMLButtonElement>('camera'),
  upload: byId<HTMLButtonElement>('upload'),
  fileInput: byId<HTMLInputElement>('file-input'),
  forget: byId<HTMLButtonElement>('forget'),
  phoneLink: byId<HTMLButtonElement>('phone-link'),
  forgetDialog: byId<HTMLDialogElement>('forget-dialog'),
  dropOverlay: byId('drop-overlay'),
  voicePicker: byId<HTMLDetailsElement>('voice-picker'),
  voiceSummary: byId('voice-summary'),
  voiceForm: byId<HTMLFormElement>('voice-form'),
  voiceSelect: byId<HTMLSelectElement>('voice-select'),
  voicePreview: byId<HTMLButtonElement>('voice-preview'),
  voiceChoose: byId<HTMLButtonElement>('voice-choose'),
  voiceStatus: byId('voice-status'),
};

export type PageState = 'disconnected' | 'connecting' | AgentState;

const STATE_LABELS: Record<PageState, string> = {
  disconnected: 'Not connected',
  connecting: 'Connecting…',
  initializing: 'Starting…',
  idle: 'Ready',
  listening: 'Listening',
  thinking: 'Thinking',
  speaking: 'Speaking',
};

export function showState(state: PageState): void {
  elements.status.dataset.state = state;
  elements.statusText.textContent = STATE_LABELS[state];
}

/** An error (or, with `kind: 'info'`, a notice) in plain words, announced to screen readers. */
export function showAlert(message: string, kind: 'error' | 'info' = 'error'): void {
  elements.alert.dataset.kind = kind;
  elements.alertText.textContent = message;
  elements.alert.hidden = false;
}

export function hideAlert(): void {
  elements.alert.hidden = true;
}

export function showSetup(problems: readonly string[]): void {
  elements.setupList.replaceChildren(
    ...problems.map((problem) => {
      const item = document.createElement('li');
      item.textContent = problem;
      return item;
    }),
  );
  elements.setup.hidden = false;
}

/** Creates or updates the line's element; keeps the newest line in view. */
export function renderLine(line: TranscriptLine): void {
  let item = elements.transcript.querySelector<HTMLLIElement>(`li[data-id="${line.id}"]`);
  if (line.text === '') {
    item?.remove();
    return;
  }
  if (!item) {
    item = document.createElement('li');
    item.dataset.id = String(line.id);
    item.dataset.role = line.role;
    item.className = `line ${line.role}`;
    const who = document.createElement('span');
    who.className = 'who';
    who.textContent = line.role === 'user' ? 'You' : 'Assistant';
    const text = document.createElement('span');
    text.className = 'text';
    item.append(who, text);
    elements.transcript.append(item);
    elements.emptyHint.hidden = true;
  }
  item.dataset.final = String(line.final);
  item.classList.toggle('interim', !line.final);
  (item.querySelector('.text') as HTMLElement).textContent = line.text;
  const waterfallOpen = item.querySelector<HTMLDetailsElement>('.waterfall')?.open ?? false;
  item.querySelector('.note')?.remove();
  item.querySelector('.citations')?.remove();
  item.querySelector('.waterfall')?.remove();
  if (line.interrupted) {
    const note = document.createElement('span');
    note.className = 'note';
    note.textContent = '(interrupted)';
    item.append(note);
  }
  if (line.citations.length > 0) {
    const list = document.createElement('ul');
    list.className = 'citations';
    list.setAttribute('aria-label', 'Sources');
    for (const citation of line.citations) {
      const entry = document.createElement('li');
      entry.textContent = citationLabel(citation);
      const play = citationPlayControl(citation);
      if (play) entry.append(' ', play);
      list.append(entry);
    }
    item.append(list);
  }
  if (line.timings) item.append(renderWaterfall(line.timings, waterfallOpen));
  item.scrollIntoView({ block: 'end' });
}

export function clearTranscript(): void {
  elements.transcript.replaceChildren();
  elements.uploads.replaceChildren();
  elements.emptyHint.hidden = false;
}

/** The microphone level, 0 to 1 (RMS): shown on a roughly logarithmic scale. */
export function showLevel(level: number): void {
  const percent = Math.round(Math.min(1, Math.max(0, (20 * Math.log10(level + 1e-6) + 60) / 60)) * 100);
  elements.meterFill.style.width = `${percent}%`;
  elements.meter.setAttribute('aria-valuenow', String(percent));
}

export function setToggle(button: HTMLButtonElement, on: boolean, name: string): void {
  button.setAttribute('aria-pressed', String(on));
  button.textContent = `${name} ${on ? 'on' : 'off'}`;
}

/** One shared file in the side list: progress while sending, then what became of it. */
export interface UploadItem {
  progress(fraction: number): void;
  status(message: string, done?: boolean): void;
  fail(message: string): void;
}

export function addUploadItem(fileName: string): UploadItem {
  const item = document.createElement('li');
  item.className = 'upload';
  const name = document.createElement('strong');
  name.textContent = fileName;
  const bar = document.createElement('progress');
  bar.max = 1;
  bar.value = 0;
  bar.setAttribute('aria-label', `Sending ${fileName}`);
  const message = document.createElement('span');
  message.className = 'upload-status';
  message.setAttribute('role', 'status');
  message.textContent = ' Sending…';
  item.append(name, message, bar);
  elements.uploads.prepend(item);
  return {
    progress: (fraction) => (bar.value = fraction),
    status(text, done = false) {
      message.textContent = ` ${text}`;
      if (done) bar.remove();
    },
    fail(text) {
      item.classList.add('failed');
      message.textContent = ` ${text}`;
      bar.remove();
    },
  };
}
