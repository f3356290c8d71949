import type { ServerMessage, SessionResponse } from '../../../protocol/index.ts';
import {
  AccessKeyRequired,
  eraseEverything,
  giveAccessKey,
  requestPhoneLink,
  requestSession,
} from './api.ts';
import { DirectTransport } from './direct-transport.ts';
import { SharedFiles } from './files.ts';
import { Transcript } from './transcript.ts';
import type { Transport, TransportListener } from './transport.ts';
import { VoicePicker } from './voice-picker.ts';
import {
  clearTranscript,
  elements,
  hideAlert,
  renderLine,
  setToggle,
  showAlert,
  showLevel,
  showSetup,
  showState,
} from './view.ts';

/**
 * The page: asks the server how to reach the assistant, connects on request, and
 * shows the conversation. Everything it shows comes from the server; nothing here
 * answers on the assistant's behalf.
 */

let session: SessionResponse | undefined;
let transport: Transport | undefined;
let microphoneOn = false;
let cameraOn = false;
const transcript = new Transcript();
const voicePicker = new VoicePicker(() => transport?.announceVoiceChange());
const files = new SharedFiles(
  () => transport,
  () => (session && session.mode !== 'setup_needed' ? session.uploadMaxBytes : 0),
);

const listener: TransportListener = {
  message: (message: ServerMessage) => {
    if (message.type === 'transcript') {
      const line = transcript.apply(message);
      if (line) renderLine(line);
    } else if (message.type === 'agent_state') showState(message.state);
    else if (message.type === 'error') showAlert(message.message);
    else if (message.type === 'upload_progress') files.progress(message);
    else if (message.type === 'turn_timings') {
      const line = transcript.attachTimings(message);
      if (line) renderLine(line);
    }
  },
  level: showLevel,
  lost: (reason) => {
    showAlert(reason);
    transport = undefined;
    setConnected(false);
  },
};

async function loadSession(): Promise<void> {
  try {
    session = await requestSession();
  } catch (error) {
    if (error instanceof AccessKeyRequired) {
      elements.accessForm.hidden = false;
      elements.accessKey.focus();
    } else showAlert(messageOf(error));
    return;
  }
  elements.accessForm.hidden = true;
  if (session.mode === 'setup_needed') {
    showSetup(session.problems);
    elements.connect.disabled = true;
    return;
  }
  elements.setup.hidden = true;
  elements.connect.disabled = false;
  void voicePicker.load();
}

async function connect(): Promise<void> {
  hideAlert();
  elements.connect.disabled = true;
  showState('connecting');
  try {
    // A fresh session each time: LiveKit tokens are short-lived.
    const fresh = await requestSession();
    session = fresh;
    if (fresh.mode === 'setup_needed') throw new Error('The assistant is not set up yet.');
    const next =
      fresh.mode === 'direct'
        ? new DirectTransport(fresh, listener, elements.cameraPreview)
        : new (await import('./livekit-transport.ts')).LiveKitTransport(
            fresh,
            listener,
            elements.cameraPreview,
          );
    transport = next;
    await next.connect();
    microphoneOn = next.microphoneOn;
    setConnected(true);
  } catch (error) {
    await transport?.disconnect().catch(() => undefined);
    transport = undefined;
    setConnected(false);
    showAlert(messageOf(error));
  } finally {
    elements.connect.disabled = false;
  }
}

async function disconnect(): Promise<void> {
  const current = transport;
  transport = undefined;
  setConnected(false);
  await current?.disconnect().catch(() => undefined);
}

function setConnected(connected: boolean): void {
  elements.connect.textContent = connected ? 'Disconnect' : 'Connect';
  for (const control of [
    elements.microphone,
    elements.camera,
    elements.upload,
    elements.textInput,
    elements.send,
  ]) {
    control.disabled = !connected;
  }
  if (!connected) {
    microphoneOn = false;
    cameraOn = false;
    elements.cameraBox.hidden = true;
    showLevel(0);
    showState('disconnected');
  }
  setToggle(elements.microphone, microphoneOn, 'Microphone');
  setToggle(elements.camera, cameraOn, 'Camera');
}

async function toggle(device: 'microphone' | 'camera'): Promise<void> {
  if (!transport) return;
  const on = device === 'microphone' ? !microphoneOn : !cameraOn;
  try {
    if (device === 'microphone') await transport.setMicrophone(on);
    else await transport.setCamera(on);
  } catch (error) {
    showAlert(messageOf(error));
    return;
  }
  if (device === 'microphone') microphoneOn = on;
  else {
    cameraOn = on;
    elements.cameraBox.hidden = !on;
  }
  setToggle(elements.microphone, microphoneOn, 'Microphone');
  setToggle(elements.camera, cameraOn, 'Camera');
}

async function forget(): Promise<void> {
  await disconnect();
  try {
    const receipt = await eraseEverything();
    transcript.clear();
    clearTranscript();
    // The chosen voice was erased too: the picker shows the default again.
    void voicePicker.load();
    const rows = Object.values(receipt.rowsDeleted).reduce((total, count) => total + count, 0);
    showAlert(
      `Everything about you was erased (${rows} records, ${receipt.filesDeleted} files; receipt ${receipt.receiptId}).`,
      'info',
    );
  } catch (error) {
    showAlert(messageOf(error));
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error && error.message ? error.message : 'Something went wrong. Please try again.';
}

elements.connect.addEventListener('click', () => void (transport ? disconnect() : connect()));
elements.microphone.addEventListener('click', () => void toggle('microphone'));
elements.camera.addEventListener('click', () => void toggle('camera'));
elements.alertClose.addEventListener('click', hideAlert);
elements.textForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const text = elements.textInput.value.trim();
  if (!text || !transport) return;
  transport.sendText(text);
  elements.textInput.value = '';
});
elements.phoneLink.addEventListener('click', () => {
  void requestPhoneLink()
    .then(({ code }) =>
      showAlert(
        `To use your memories and documents on the phone, call the assistant and say: "link my account, code ${code.split('').join(' ')}". The code works once, for 10 minutes.`,
        'info',
      ),
    )
    .catch((error: unknown) => showAlert(messageOf(error)));
});
elements.forget.addEventListener('click', () => {
  elements.forgetDialog.returnValue = '';
  elements.forgetDialog.showModal();
});
elements.forgetDialog.addEventListener('close', () => {
  if (elements.forgetDialog.returnValue === 'confirm') void forget();
});
elements.accessForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void giveAccessKey(elements.accessKey.value)
    .then(() => {
      elements.accessKey.value = '';
      hideAlert();
      return loadSession();
    })
    .catch((error: unknown) => showAlert(messageOf(error)));
});

setConnected(false);
void loadSession();
