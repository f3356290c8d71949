/**
 * Reading pictures with an OpenAI-compatible vision model (OpenAI, or a local
 * Ollama / vLLM / llama.cpp server by base URL): transcribing scanned pages,
 * and describing photos so they can be found by what they show.
 */
import OpenAI from 'openai';

/** An encoded image to show the model. */
export interface VisionImage {
  readonly data: Uint8Array;
  readonly mime: 'image/jpeg' | 'image/png';
}

/** A vision model. One instance per configured endpoint. */
export interface VisionModel {
  readonly model: string;
  /** Every piece of text on a document page, in reading order, with figures described briefly. */
  transcribePage(image: VisionImage, options?: { signal?: AbortSignal }): Promise<string>;
  /** A short description of a picture followed by any text in it. */
  describeImage(image: VisionImage, options?: { signal?: AbortSignal }): Promise<string>;
}

export interface VisionModelOptions {
  baseUrl: string;
  apiKey: string;
  model: string;
  /** Retries of a failed request, with exponential backoff (default 2). */
  maxRetries?: number;
  /** Per-request timeout in ms (default 120 s: a dense page takes a local model a while). */
  timeoutMs?: number;
}

/** The vision server failed (after retries) or answered with nothing usable. */
export class VisionModelError extends Error {
  readonly retryable = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'VisionModelError';
  }
}

export const PAGE_TRANSCRIPTION_INSTRUCTION =
  'You transcribe scanned document pages. Write out all text on the page exactly as printed, in reading order: ' +
  'headings, paragraphs, lists, table cells (one row per line, cells separated by " | "), captions, ' +
  'footnotes. Keep each heading and paragraph on its own line. For each figure, photo, chart or diagram, ' +
  'add one short sentence in square brackets saying what it shows. Output only the transcription, with ' +
  'no comments of your own; for a blank page output nothing.';

export const IMAGE_DESCRIPTION_INSTRUCTION =
  'Describe this image for someone who will later search their files for it: first two or three ' +
  'sentences on what it shows (objects, people, place, kind of document or screenshot), then, if it ' +
  'contains any text, "Text:" followed by all of that text exactly as written. Output only that.';

/**
 * Creates a vision model client. Each call is one non-streamed chat completion
 * with the image as a base64 data URL at high detail; the SDK retries
 * 408/409/429/5xx and connection errors with exponential backoff.
 */
export function createVisionModel(options: VisionModelOptions): VisionModel {
  const client = new OpenAI({
    baseURL: options.baseUrl,
    apiKey: options.apiKey,
    maxRetries: options.maxRetries ?? 2,
    timeout: options.timeoutMs ?? 120_000,
  });

  async function ask(
    instruction: string,
    request: string,
    image: VisionImage,
    signal: AbortSignal | undefined,
  ): Promise<string> {
    const url = `data:${image.mime};base64,${Buffer.from(image.data).toString('base64')}`;
    let content: string | null | undefined;
    try {
      const completion = await client.chat.completions.create(
        {
          model: options.model,
          temperature: 0,
          messages: [
            { role: 'system', content: instruction },
            {
              role: 'user',
              content: [
                { type: 'text', text: request },
                { type: 'image_url', image_url: { url, detail: 'high' } },
              ],
            },
          ],
        },
        { signal },
      );
      content = completion.choices[0]?.message.content;
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new VisionModelError(`the vision model ${options.model} failed: ${describe(error)}`, {
        cause: error,
      });
    }
    if (typeof content !== 'string') {
      throw new VisionModelError(`the vision model ${options.model} answered without text`);
    }
    return content.trim();
  }

  return {
    model: options.model,
    transcribePage: (image, { signal } = {}) =>
      ask(PAGE_TRANSCRIPTION_INSTRUCTION, 'Transcribe this page.', image, signal),
    describeImage: (image, { signal } = {}) =>
      ask(IMAGE_DESCRIPTION_INSTRUCTION, 'Describe this image.', image, signal),
  };
}

function describe(error: unknown): string {
  if (error instanceof OpenAI.APIError && error.status !== undefined) return `HTTP ${error.status}`;
  return error instanceof Error ? error.message : String(error);
}
