import { createHash } from 'node:crypto';
import pgvector from 'pgvector';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, seededVectors, type TestDatabase } from '../test/support/database.ts';
import { resolveUser, saveDocument } from './index.ts';

/** The size of OpenAI's text-embedding-3-small: vectors large enough to be stored out of line. */
const DIMENSIONS = 1536;
const CHUNKS = 600;

describe('planner statistics of the embedded database', () => {
  let test: TestDatabase;
  let userId: string;
  let query: number[];

  beforeAll(async () => {
    test = await createTestDatabase('embedded', DIMENSIONS);
    userId = await resolveUser(test.database.pool, { kind: 'web', value: 'planner' });
    const nextVector = seededVectors(7, DIMENSIONS);
    const vectors = Array.from({ length: CHUNKS }, nextVector);
    query = nextVector();
    await saveDocument(test.database.pool, {
      ownerId: null,
      title: 'Handbook',
      sourceName: 'handbook.pdf',
      mimeType: 'application/pdf',
      sha256: createHash('sha256').update('planner-handbook').digest('hex'),
      byteSize: 1000,
      pageCount: CHUNKS,
      embeddingModel: 'test-model',
      chunks: vectors.map((embedding, index) => ({
        pageStart: index + 1,
        pageEnd: index + 1,
        heading: null,
        text: `Section ${index} of the handbook.`,
        embedding,
      })),
    });
  }, 120_000);
  afterAll(() => test?.cleanup());

  /** The plan of the vector half of hybrid search (db/queries/search.ts). */
  const vectorPlan = async () => {
    const { rows } = await test.database.pool.query<{ 'QUERY PLAN': string }>(
      `explain select id from chunks
        where (owner_id = $1 or owner_id is null) and embedding is not null
        order by embedding <=> $2::vector limit 24`,
      [userId, pgvector.toSql(query)],
    );
    return rows.map((row) => row['QUERY PLAN']).join('\n');
  };

  it('analyzes the tables that changed by more than autovacuum allows, then the search walks the HNSW index', async () => {
    // Never analyzed (PGlite runs no autovacuum): every distance is computed.
    expect(await vectorPlan()).not.toContain('chunks_embedding');
    const analyzed = await test.database.refreshStatistics();
    // 600 new chunks are over the threshold; one new document and one user are not.
    expect(analyzed).toEqual(['chunks']);
    const plan = await vectorPlan();
    expect(plan).toContain('Index Scan using chunks_embedding');
    // Nothing changed since: nothing to do.
    expect(await test.database.refreshStatistics()).toEqual([]);
  });
});
