import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveUser, saveDocument } from '../db/index.ts';
import { axisVector, createTestDatabase, type TestDatabase } from '../test/support/database.ts';
import { Knowledge } from './knowledge.ts';

const DIMENSIONS = 8;

describe('Knowledge', () => {
  let test: TestDatabase;
  let knowledge: Knowledge;
  const statements: string[] = [];

  beforeAll(async () => {
    test = await createTestDatabase('embedded', DIMENSIONS);
    const pool = test.database.pool;
    const userId = await resolveUser(pool, { kind: 'web', value: 'knowledge-user' });
    await saveDocument(pool, {
      ownerId: userId,
      title: 'Valve manual',
      sourceName: 'valves.pdf',
      mimeType: 'application/pdf',
      sha256: createHash('sha256').update('knowledge-valves').digest('hex'),
      byteSize: 100,
      pageCount: 2,
      embeddingModel: 'test-model',
      chunks: [
        {
          pageStart: 1,
          pageEnd: 1,
          heading: null,
          text: 'The blue valve has part number ZX-4471.',
          embedding: axisVector(DIMENSIONS, 0),
        },
        {
          pageStart: 2,
          pageEnd: 2,
          heading: null,
          text: 'The red valve sits behind the boiler.',
          embedding: axisVector(DIMENSIONS, 1),
        },
      ],
    });
    const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
    (pool as { query: unknown }).query = (...args: unknown[]) => {
      if (typeof args[0] === 'string') statements.push(args[0]);
      return query(...args);
    };
    knowledge = new Knowledge(test.database, undefined, userId);
  });
  afterAll(() => test?.cleanup());

  it('searches a second wording with the same embedding by its words alone, reusing the vector rankings', async () => {
    const embedding = Promise.resolve(axisVector(DIMENSIONS, 0));
    const vectorQueries = () => statements.filter((sql) => sql.includes('<=>')).length;
    const first = await knowledge.retrieve('what is the part number of the', embedding);
    expect(vectorQueries()).toBe(2); // chunks and memories
    const second = await knowledge.retrieve('what is the part number of the red valve', embedding);
    expect(vectorQueries()).toBe(2);
    // The vector half still ranks the blue valve first; the new words found the red one.
    expect(first.sources.map((source) => source.text)).toContain('The blue valve has part number ZX-4471.');
    expect(second.sources.map((source) => source.text)).toEqual(
      expect.arrayContaining([
        'The blue valve has part number ZX-4471.',
        'The red valve sits behind the boiler.',
      ]),
    );
    // Another embedding (another question) ranks afresh.
    await knowledge.retrieve('where is the red valve', Promise.resolve(axisVector(DIMENSIONS, 1)));
    expect(vectorQueries()).toBe(4);
  });
});
