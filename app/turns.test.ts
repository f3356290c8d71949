import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { StoredTurn } from '../db/index.ts';
import { startFakes, type Fakes } from '../test/fakes/index.ts';
import { storeCommandDocument } from '../test/support/command-document.ts';
import { runApp } from '../test/support/run-command.ts';

const DIMENSIONS = 32;
const EMBEDDING_LATENCY_MS = 150;
const FIRST_TOKEN_MS = 300;

describe('npm run turns', () => {
  let fakes: Fakes;
  let dataDir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    fakes = await startFakes({ openai: { embeddingDimensions: DIMENSIONS } });
    dataDir = await mkdtemp(path.join(tmpdir(), 'turns-'));
    env = {
      ...fakes.environment,
      EMBEDDING_DIMENSIONS: String(DIMENSIONS),
      DATA_DIR: dataDir,
      DATABASE_URL: '',
      LOG_LEVEL: 'silent',
    };
    await storeCommandDocument({
      dataDir,
      fakes,
      dimensions: DIMENSIONS,
      owner: { kind: 'phone', value: '+15550002222' },
      title: 'Care guide',
      page: 4,
      text: 'The filter is cleaned every month with warm water.',
    });
    fakes.openai.latency.embeddings = EMBEDDING_LATENCY_MS;
    fakes.openai.latency.chatFirstToken = FIRST_TOKEN_MS;
    fakes.openai.chatResponder = () => ({ text: 'Every month, with warm water [S1].' });
  });
  afterAll(async () => {
    await fakes?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it(
    'shows the stage timings and sources of the turn `ask` just answered, as JSON and as a table',
    { timeout: 150_000 },
    async () => {
      const asked = await runApp(
        'ask.ts',
        ['--user', 'phone:+15550002222', '--json', 'How do I clean the filter?'],
        env,
      );
      expect(asked.stderr).toBe('');
      const { turnId } = JSON.parse(asked.stdout) as { turnId: string };

      const json = await runApp('turns.ts', ['--last', '5', '--json'], env);
      expect(json.stderr).toBe('');
      expect(json.code).toBe(0);
      const turns = JSON.parse(json.stdout) as StoredTurn[];
      expect(turns).toHaveLength(1);
      const [turn] = turns;
      expect(turn).toMatchObject({
        id: turnId,
        modality: 'text',
        question: 'How do I clean the filter?',
        answer: 'Every month, with warm water.',
        citations: [{ title: 'Care guide', page: 4 }],
      });
      const retrieval = turn?.stages.find((stage) => stage.name === 'retrieval');
      const llm = turn?.stages.find((stage) => stage.name === 'llm');
      expect((retrieval?.endMs ?? 0) - (retrieval?.startMs ?? 0)).toBeGreaterThanOrEqual(
        EMBEDDING_LATENCY_MS,
      );
      expect((llm?.firstMs ?? 0) - (llm?.startMs ?? 0)).toBeGreaterThanOrEqual(FIRST_TOKEN_MS);

      const table = await runApp('turns.ts', ['--conversation', turn?.conversationId ?? ''], env);
      expect(table.code).toBe(0);
      const lines = table.stdout.split('\n');
      expect(lines[0]).toMatch(
        /^started \(UTC\)\s+turn\s+eot\s+stt\s+retrieve\s+llm 1st\s+tools\s+tts 1st\s+playout\s+v2v\s+flags$/,
      );
      expect(lines[1]).toContain(turnId.slice(0, 8));
      expect(lines[1]).toContain(String((llm?.firstMs ?? 0) - (llm?.startMs ?? 0)));
      expect(lines[1]).toMatch(/typed$/);
      expect(table.stdout).toContain('asked: How do I clean the filter?');
      expect(table.stdout).toContain('cited: Care guide p.4');
    },
  );

  it('refuses --conversation and --last together, and a conversation id that is not one', async () => {
    const both = await runApp('turns.ts', ['--last', '2', '--conversation', 'x'], env);
    expect(both.code).toBe(1);
    expect(both.stderr).toContain('Give --conversation or --last, not both.');
    const bad = await runApp('turns.ts', ['--conversation', 'yesterday'], env);
    expect(bad.stderr).toContain('--conversation must be a conversation id');
  });
});
