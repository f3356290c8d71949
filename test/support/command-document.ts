import { createHash } from 'node:crypto';
import { openDatabase, resolveUser, saveDocument, type Identity } from '../../db/index.ts';
import { createEmbedder } from '../../ingest/embeddings.ts';
import type { Fakes } from '../fakes/index.ts';

/**
 * Stores a one-page document of `owner` in the embedded database of `dataDir`, embedded
 * by the fake OpenAI server as ingestion would, then closes the database so a command
 * started afterwards (its own process) can open it.
 */
export async function storeCommandDocument(options: {
  dataDir: string;
  fakes: Fakes;
  dimensions: number;
  owner: Identity;
  title: string;
  page: number;
  text: string;
  heading?: string;
}): Promise<void> {
  const database = await openDatabase({ dataDir: options.dataDir, embeddingDimensions: options.dimensions });
  try {
    const userId = await resolveUser(database.pool, options.owner);
    const model = 'text-embedding-3-small';
    const embedder = createEmbedder({
      baseUrl: options.fakes.openai.baseUrl,
      apiKey: options.fakes.environment.OPENAI_API_KEY ?? '',
      model,
      dimensions: options.dimensions,
    });
    const [embedding] = await embedder.embed([options.text]);
    await saveDocument(database.pool, {
      ownerId: userId,
      title: options.title,
      sourceName: `${options.title}.pdf`,
      mimeType: 'application/pdf',
      sha256: createHash('sha256').update(options.text).digest('hex'),
      byteSize: 100,
      pageCount: options.page,
      embeddingModel: model,
      chunks: [
        {
          pageStart: options.page,
          pageEnd: options.page,
          heading: options.heading ?? null,
          text: options.text,
          embedding: embedding ?? null,
        },
      ],
    });
  } finally {
    await database.close();
  }
}
