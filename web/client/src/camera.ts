/** Longest side of the pictures sent to the assistant, in pixels: enough to recognise things. */
const FRAME_LONG_SIDE = 640;
const JPEG_QUALITY = 0.7;

/**
 * The camera with a live preview. In direct mode `capture()` takes a small JPEG of what
 * it shows now, which the transport sends about once a second.
 */
export class Camera {
  private stream: MediaStream | undefined;
  private readonly canvas = document.createElement('canvas');

  constructor(private readonly preview: HTMLVideoElement) {}

  get active(): boolean {
    return this.stream !== undefined;
  }

  async start(): Promise<void> {
    if (this.stream) return;
    this.stream = await navigator.mediaDevices.getUserMedia({
      video: { width: { ideal: 1280 }, height: { ideal: 720 }, facingMode: 'user' },
    });
    this.preview.srcObject = this.stream;
    await this.preview.play().catch(() => undefined);
  }

  stop(): void {
    for (const track of this.stream?.getTracks() ?? []) track.stop();
    this.stream = undefined;
    this.preview.srcObject = null;
  }

  /** The current picture as base64 JPEG, or undefined before the first video frame. */
  async capture(): Promise<string | undefined> {
    const { videoWidth, videoHeight } = this.preview;
    if (!this.stream || videoWidth === 0 || videoHeight === 0) return undefined;
    const scale = Math.min(1, FRAME_LONG_SIDE / Math.max(videoWidth, videoHeight));
    this.canvas.width = Math.round(videoWidth * scale);
    this.canvas.height = Math.round(videoHeight * scale);
    this.canvas.getContext('2d')?.drawImage(this.preview, 0, 0, this.canvas.width, this.canvas.height);
    const blob = await new Promise<Blob | null>((resolve) =>
      this.canvas.toBlob(resolve, 'image/jpeg', JPEG_QUALITY),
    );
    if (!blob) return undefined;
    const bytes = new Uint8Array(await blob.arrayBuffer());
    let binary = '';
    for (let index = 0; index < bytes.length; index += 0x8000) {
      binary += String.fromCharCode(...bytes.subarray(index, index + 0x8000));
    }
    return btoa(binary);
  }
}
