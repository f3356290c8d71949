import OpenAI from 'openai';
import { AppError } from '../protocol/index.ts';

/** Turns texts into vectors. One instance per configured embedding endpoint. */
export interface Embedder {
  readonly model: string;
  readonly dimensions: number;
  /** Embeds texts in order; batches and retries internally. */
  embed(texts: readonly string[], options?: { signal?: AbortSignal }): Promise<number[][]>;
}

export interface EmbedderOptions {
  baseUrl: string;
  apiKey: string;
  model: string;
  dimensions: number;
  /** Inputs per request (default 64). */
  batchSize?: number;
  /** Retries of a failed request, with exponential backoff (default 4). */
  maxRetries?: number;
  /** Per-request timeout in ms (default 30 s). */
  timeoutMs?: number;
}

/** The embedding server answered with vectors of another size than configured. */
export class EmbeddingDimensionError extends AppError<'embedding-dimensions'> {
  constructor(model: string, expected: number, actual: number) {
    super(
      'embedding-dimensions',
      `The embedding model ${model} returns ${actual}-dimensional vectors but EMBEDDING_DIMENSIONS is ${expected}. ` +
        `Set EMBEDDING_DIMENSIONS=${actual} (see "Changing the embedding model" in the README) or choose another model.`,
      { userFacing: true, retryable: false },
    );
  }
}

/**
 * An OpenAI-compatible embedder (OpenAI, Ollama, vLLM, a test fake). The SDK retries
 * 408/409/429/5xx and connection errors with exponential backoff and jitter.
 */
export function createEmbedder(options: EmbedderOptions): Embedder {
  const client = new OpenAI({
    baseURL: options.baseUrl,
    apiKey: options.apiKey,
    maxRetries: options.maxRetries ?? 4,
    timeout: options.timeoutMs ?? 30_000,
  });
  const batchSize = options.batchSize ?? 64;
  return {
    model: options.model,
    dimensions: options.dimensions,
    async embed(texts, { signal } = {}) {
      const vectors: number[][] = [];
      for (let start = 0; start < texts.length; start += batchSize) {
        // Empty strings are rejected by some servers; a single space embeds as "nothing".
        const batch = texts.slice(start, start + batchSize).map((text) => (text.trim() === '' ? ' ' : text));
        const response = await client.embeddings.create({ model: options.model, input: batch }, { signal });
        const ordered = [...response.data].sort((a, b) => a.index - b.index);
        if (ordered.length !== batch.length) {
          throw new Error(
            `The embedding server returned ${ordered.length} vectors for ${batch.length} inputs`,
          );
        }
        for (const item of ordered) {
          if (item.embedding.length !== options.dimensions) {
            throw new EmbeddingDimensionError(options.model, options.dimensions, item.embedding.length);
          }
          vectors.push(item.embedding);
        }
      }
      return vectors;
    },
  };
}
