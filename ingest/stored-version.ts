import type { StoredDocument } from '../db/index.ts';

/** What this ingest could do better than an earlier one. */
export interface IngestAbilities {
  /** The embedding model in use; undefined when documents are stored without embeddings. */
  readonly embeddingModel: string | undefined;
  /** Whether a vision model can read pages without text. */
  readonly canTranscribe: boolean;
}

/**
 * Whether a stored document with the same bytes can stand as the answer to
 * ingesting them again ('unchanged'). It cannot when this run would store more:
 * pages left unread before can now be transcribed, or chunks lack embeddings
 * (stored without an embedder, or dropped by `db:migrate --reset-embeddings`)
 * or carry another model's, which the README's "ingest your documents again"
 * relies on.
 */
export function isUpToDate(stored: StoredDocument, abilities: IngestAbilities): boolean {
  if (stored.status !== 'ready') return false;
  if (abilities.canTranscribe && stored.unreadablePages.length > 0) return false;
  const model = abilities.embeddingModel;
  if (model !== undefined) {
    if (stored.chunksWithoutEmbedding > 0) return false;
    if (stored.embeddingModels.some((stored) => stored !== model)) return false;
  }
  return true;
}
