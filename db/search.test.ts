import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { hybridSearch, resolveUser, saveDocument, type NewChunk } from './index.ts';
import {
  axisVector,
  backends,
  cosineDistance,
  createTestDatabase,
  seededVectors,
  type TestDatabase,
} from '../test/support/database.ts';

const DIMENSIONS = 16;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe.each(backends)('hybrid search on %s', (backend) => {
  let test: TestDatabase;
  let alice: string;
  let bob: string;

  const save = (ownerId: string | null, title: string, chunks: NewChunk[]) =>
    saveDocument(test.database.pool, {
      ownerId,
      title,
      sourceName: title,
      mimeType: 'text/plain',
      sha256: sha256(title + JSON.stringify(chunks)),
      byteSize: 100,
      pageCount: chunks.length,
      embeddingModel: 'test-model',
      chunks,
    });

  beforeAll(async () => {
    test = await createTestDatabase(backend, DIMENSIONS);
    alice = await resolveUser(test.database.pool, { kind: 'web', value: 'alice-browser' });
    bob = await resolveUser(test.database.pool, { kind: 'web', value: 'bob-browser' });
    await save(alice, 'Valve manual', [
      {
        pageStart: 1,
        pageEnd: 1,
        heading: 'Parts',
        text: 'The blue valve has part number ZX-4471.',
        embedding: axisVector(DIMENSIONS, 0),
      },
      {
        pageStart: 2,
        pageEnd: 2,
        heading: 'Care',
        text: 'Clean the filter every month.',
        embedding: axisVector(DIMENSIONS, 1),
      },
      {
        pageStart: 3,
        pageEnd: 3,
        heading: 'Warranty',
        text: 'Coverage lasts two years from purchase.',
        embedding: axisVector(DIMENSIONS, 2),
      },
    ]);
    await save(bob, 'Bob secrets', [
      {
        pageStart: 1,
        pageEnd: 1,
        heading: null,
        text: 'Bob keeps ZX-4471 spares in the garage.',
        embedding: axisVector(DIMENSIONS, 0),
      },
    ]);
    await save(null, 'Company handbook', [
      {
        pageStart: 7,
        pageEnd: 7,
        heading: 'Holidays',
        text: 'The office closes for the winter holidays.',
        embedding: axisVector(DIMENSIONS, 3),
      },
    ]);
  });
  afterAll(() => test.cleanup());

  it('finds an exact code that only full-text search can match', async () => {
    // The query embedding points nowhere near the chunk: only the text ranking can find it.
    const hits = await hybridSearch(test.database.pool, {
      userId: alice,
      text: 'which part is ZX-4471',
      embedding: axisVector(DIMENSIONS, 5),
    });
    expect(hits[0]?.text).toContain('ZX-4471');
    expect(hits[0]?.title).toBe('Valve manual');
    expect(hits[0]?.pageStart).toBe(1);
    expect(hits[0]?.matchedBy).toContain('text');
  });

  it('finds a chunk that shares no words with the query through its embedding', async () => {
    const hits = await hybridSearch(test.database.pool, {
      userId: alice,
      text: 'how long am I protected after buying',
      embedding: axisVector(DIMENSIONS, 2, { axis: 6, weight: 0.2 }),
    });
    expect(hits[0]?.text).toBe('Coverage lasts two years from purchase.');
    expect(hits[0]?.matchedBy).toEqual(['vector']);
  });

  it('searches full text only when no embedding is available', async () => {
    const hits = await hybridSearch(test.database.pool, {
      userId: alice,
      text: 'filter cleaning',
      embedding: null,
    });
    expect(hits.map((hit) => hit.text)).toEqual(['Clean the filter every month.']);
    expect(hits[0]?.matchedBy).toEqual(['text']);
  });

  it("includes shared documents but never another user's", async () => {
    const hits = await hybridSearch(test.database.pool, {
      userId: alice,
      text: 'ZX-4471 winter holidays garage',
      embedding: axisVector(DIMENSIONS, 0),
      limit: 10,
    });
    const titles = new Set(hits.map((hit) => hit.title));
    expect(titles.has('Company handbook')).toBe(true);
    expect(titles.has('Bob secrets')).toBe(false);
    const bobHits = await hybridSearch(test.database.pool, {
      userId: bob,
      text: 'ZX-4471',
      embedding: axisVector(DIMENSIONS, 0),
    });
    expect(bobHits.map((hit) => hit.title)).toContain('Bob secrets');
    expect(bobHits.map((hit) => hit.title)).not.toContain('Valve manual');
  });

  it('returns the exact top-k under a selective per-user filter among many users', async () => {
    // 40 users with 30 chunks each of random embeddings: the target user owns 2.5% of the
    // chunks. A post-filtered index scan (ef_search 40) would return only about one of theirs.
    const pool = test.database.pool;
    const random = seededVectors(42, DIMENSIONS);
    const users: string[] = [];
    for (let index = 0; index < 40; index++) {
      users.push(await resolveUser(pool, { kind: 'web', value: `crowd-${index}` }));
    }
    const target = users[17] as string;
    const targetEmbeddings: number[][] = [];
    for (const [index, owner] of users.entries()) {
      const chunks = Array.from({ length: 30 }, (_, ordinal) => ({
        pageStart: ordinal + 1,
        pageEnd: ordinal + 1,
        heading: null,
        text: `note ${ordinal} of user ${index}`,
        embedding: random(),
      }));
      if (owner === target) targetEmbeddings.push(...chunks.map((chunk) => chunk.embedding));
      await save(owner, `crowd document ${index}`, chunks);
    }
    const query = random();
    const exact = targetEmbeddings
      .map((embedding, ordinal) => ({ page: ordinal + 1, distance: cosineDistance(embedding, query) }))
      .sort((a, b) => a.distance - b.distance)
      .slice(0, 10)
      .map((entry) => entry.page);

    // Force the planner onto the HNSW index (a small table would otherwise be scanned exactly).
    const client = await pool.connect();
    try {
      await client.query('begin');
      await client.query('set local enable_seqscan = off');
      await client.query('set local enable_sort = off');
      const plan = await client.query(
        `explain select id from chunks where owner_id = $1 or owner_id is null order by embedding <=> $2::vector limit 10`,
        [target, JSON.stringify(query)],
      );
      expect(plan.rows.map((row: Record<string, string>) => row['QUERY PLAN']).join('\n')).toContain(
        'chunks_embedding',
      );
      const hits = await hybridSearch(client, {
        userId: target,
        text: 'unrelated words',
        embedding: query,
        limit: 10,
      });
      // Shared documents may rank too; the target's own hits must be exactly the true nearest.
      const own = hits.filter((hit) => hit.title === 'crowd document 17');
      for (const hit of hits) expect(['crowd document 17', 'Company handbook']).toContain(hit.title);
      expect(own.map((hit) => hit.pageStart)).toEqual(exact.slice(0, own.length));
      expect(own.length).toBeGreaterThanOrEqual(9);
    } finally {
      await client.query('rollback');
      client.release();
    }
  });
});
