import type { Chunk } from './chunker.ts';
import { EmbeddingDimensionError, type Embedder } from './embeddings.ts';
import { IngestError } from './errors.ts';
import type { ProgressReporter } from './progress.ts';

/** Chunks per request: one progress step each. */
const BATCH_SIZE = 64;

/**
 * What is embedded for a chunk: its heading, then its text. The heading is
 * stored apart from the text, but a passage under "Warranty" is about the
 * warranty even when it never says so.
 */
export function embeddingInput(chunk: Pick<Chunk, 'heading' | 'text'>): string {
  return chunk.heading === null ? chunk.text : `${chunk.heading}\n\n${chunk.text}`;
}

/**
 * Embeds every chunk, in order; all nulls without an embedder (the document is
 * then found by full-text search only). Throws `IngestError('embedding-failed')`
 * once the embedder's own retries are spent, so no document is stored half
 * embedded; a wrong vector size keeps its own message, which names the setting.
 */
export async function embedChunks(
  chunks: readonly Chunk[],
  embedder: Embedder | undefined,
  progress: ProgressReporter,
  signal: AbortSignal | undefined,
): Promise<(number[] | null)[]> {
  if (embedder === undefined) return chunks.map(() => null);
  const inputs = chunks.map(embeddingInput);
  const vectors: number[][] = [];
  for (let start = 0; start < inputs.length; start += BATCH_SIZE) {
    progress.report('embedding', start / inputs.length);
    try {
      vectors.push(...(await embedder.embed(inputs.slice(start, start + BATCH_SIZE), { signal })));
    } catch (error) {
      if (error instanceof EmbeddingDimensionError || signal?.aborted) throw error;
      throw new IngestError(
        'embedding-failed',
        `The embedding server (model ${embedder.model}) failed: ${describe(error)}. ` +
          'Nothing was saved; try again in a moment.',
        { cause: error },
      );
    }
  }
  progress.report('embedding', 1);
  return vectors;
}

function describe(error: unknown): string {
  const status = (error as { status?: unknown }).status;
  if (typeof status === 'number') return `HTTP ${status}`;
  return error instanceof Error ? error.message : String(error);
}
