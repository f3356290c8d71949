import {
  PROTOCOL_VERSION,
  type ClientMessage,
  type ServerMessage,
  type SessionResponse,
} from '../../../protocol/index.ts';
import { uploadFile } from './api.ts';
import { Microphone } from './audio/microphone.ts';
import { Player } from './audio/player.ts';
import { Camera } from './camera.ts';
import {
  describeMediaError,
  PlainError,
  type Transport,
  type TransportListener,
  type UploadListener,
} from './transport.ts';

type DirectSession = Extract<SessionResponse, { mode: 'direct' }>;

/** How often the camera picture is sent, in ms (the server attaches the latest to each turn). */
const CAMERA_INTERVAL_MS = 1000;

/**
 * The embedded transport: one WebSocket to this server carrying PCM both ways and JSON
 * events (protocol in protocol/direct-socket.ts).
 */
export class DirectTransport implements Transport {
  private socket: WebSocket | undefined;
  private readonly microphone: Microphone;
  private readonly player = new Player();
  private readonly camera: Camera;
  private cameraTimer: number | undefined;
  private sessionId: string | undefined;
  private onReady: (() => void) | undefined;
  private closing = false;

  constructor(
    private readonly session: DirectSession,
    private readonly listener: TransportListener,
    preview: HTMLVideoElement,
  ) {
    this.microphone = new Microphone(
      (samples) => this.sendAudio(samples),
      (level) => listener.level(level),
    );
    this.camera = new Camera(preview);
  }

  get microphoneOn(): boolean {
    return this.microphone.active;
  }

  async connect(): Promise<void> {
    await this.player.start();
    const socket = await this.open();
    // The capture rate is fixed when the microphone's audio context is created, before any sound.
    this.send({ type: 'hello', protocol: PROTOCOL_VERSION, sampleRate: this.microphone.sampleRate });
    await this.waitForReady(socket);
    // Only now: the browser shows the microphone as recording once the assistant can hear.
    try {
      await this.microphone.start();
    } catch (error) {
      this.listener.message({
        type: 'error',
        message: `${describeMediaError('microphone', error)} You can still type.`,
      });
    }
  }

  async disconnect(): Promise<void> {
    this.closing = true;
    window.clearInterval(this.cameraTimer);
    this.camera.stop();
    this.socket?.close(1000, 'the user disconnected');
    await Promise.all([this.microphone.close(), this.player.close()]);
  }

  async setMicrophone(on: boolean): Promise<void> {
    if (!on) return this.microphone.stop();
    try {
      await this.microphone.start();
    } catch (error) {
      throw new PlainError(describeMediaError('microphone', error));
    }
  }

  async setCamera(on: boolean): Promise<void> {
    window.clearInterval(this.cameraTimer);
    if (!on) {
      this.camera.stop();
      this.send({ type: 'camera_off' });
      return;
    }
    try {
      await this.camera.start();
    } catch (error) {
      throw new PlainError(describeMediaError('camera', error));
    }
    this.cameraTimer = window.setInterval(() => {
      void this.camera.capture().then((jpeg) => {
        if (jpeg) this.send({ type: 'camera_frame', jpeg });
      });
    }, CAMERA_INTERVAL_MS);
  }

  sendText(text: string): void {
    this.send({ type: 'text', text });
  }

  announceVoiceChange(): void {
    // The server switched this conversation when it saved the choice.
  }

  async upload(file: File, onProgress: UploadListener): Promise<{ uploadId: string; message: string }> {
    if (!this.sessionId) throw new PlainError('Connect to the assistant first.');
    const url = `/api/uploads?session=${encodeURIComponent(this.sessionId)}`;
    const answer = await uploadFile(url, file, (sentFraction) => onProgress({ sentFraction }));
    return { uploadId: answer.uploadId, message: answer.message };
  }

  private open(): Promise<WebSocket> {
    const url = new URL(this.session.socketPath, window.location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(url);
    socket.binaryType = 'arraybuffer';
    this.socket = socket;
    socket.onmessage = (event: MessageEvent<ArrayBuffer | string>) => this.receive(event.data);
    return new Promise((resolve, reject) => {
      socket.onopen = () => {
        socket.onclose = (event) => this.closed(event);
        resolve(socket);
      };
      socket.onclose = () => reject(new PlainError('The assistant could not be reached. Please try again.'));
    });
  }

  private waitForReady(socket: WebSocket): Promise<void> {
    return new Promise((resolve, reject) => {
      this.onReady = resolve;
      socket.addEventListener('close', () =>
        reject(new PlainError('The conversation could not start. Please try again.')),
      );
    });
  }

  private receive(data: ArrayBuffer | string): void {
    if (typeof data !== 'string') {
      this.player.push(new Int16Array(data));
      return;
    }
    const message = JSON.parse(data) as ServerMessage;
    if (message.type === 'ready') {
      this.sessionId = message.sessionId;
      this.onReady?.();
    } else if (message.type === 'audio_format') this.player.setSampleRate(message.sampleRate);
    else if (message.type === 'audio_clear') this.player.clear();
    else this.listener.message(message);
  }

  private sendAudio(samples: Int16Array): void {
    if (this.sessionId && this.socket?.readyState === WebSocket.OPEN) this.socket.send(samples.buffer);
  }

  private send(message: ClientMessage): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  private closed(event: CloseEvent): void {
    window.clearInterval(this.cameraTimer);
    if (this.closing) return;
    void this.disconnect();
    this.listener.lost(
      event.reason
        ? `The connection was closed: ${event.reason}.`
        : 'The connection to the assistant was lost.',
    );
  }
}
