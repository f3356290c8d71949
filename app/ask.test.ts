import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { startFakes, type Fakes } from '../test/fakes/index.ts';
import { storeCommandDocument } from '../test/support/command-document.ts';
import { runApp } from '../test/support/run-command.ts';

const DIMENSIONS = 32;

const runAsk = (args: string[], env: Record<string, string>) =>
  runApp('ask.ts', args, { ...env, DATABASE_URL: '', LOG_LEVEL: 'silent' }, { timeoutMs: 240_000 });

// Each test runs the command as tsx child processes; on a loaded two-core machine one takes up to a minute.
vi.setConfig({ testTimeout: 400_000 });

describe('npm run ask', () => {
  let fakes: Fakes;
  let dataDir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    fakes = await startFakes({ openai: { embeddingDimensions: DIMENSIONS } });
    dataDir = await mkdtemp(path.join(tmpdir(), 'ask-'));
    env = { ...fakes.environment, EMBEDDING_DIMENSIONS: String(DIMENSIONS), DATA_DIR: dataDir };
    // A document owned by the asking user, written the way ingestion writes it.
    await storeCommandDocument({
      dataDir,
      fakes,
      dimensions: DIMENSIONS,
      owner: { kind: 'phone', value: '+15550001111' },
      title: 'Heat pump contract',
      page: 9,
      heading: 'Warranty',
      text: 'The warranty on the heat pump lasts seven years from installation.',
    });
    fakes.openai.chatResponder = (request) => {
      const context = JSON.stringify(request.body.messages);
      return { text: context.includes('seven years') ? 'It lasts seven years [S1].' : 'I do not know.' };
    };
  });
  afterAll(async () => {
    await fakes?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("answers from the user's document and prints the citation as JSON", async () => {
    const result = await runAsk(
      ['--user', 'phone:+15550001111', '--json', 'How long is the heat pump warranty?'],
      env,
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const answer = JSON.parse(result.stdout) as { answer: string; citations: unknown[]; turnId: string };
    expect(answer.answer).toBe('It lasts seven years.');
    expect(answer.citations).toEqual([
      { documentId: expect.any(String), title: 'Heat pump contract', page: 9 },
    ]);
    expect(answer.turnId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('prints the answer and its citations as text, and another user gets no such answer', async () => {
    const own = await runAsk(['--user', 'phone:+15550001111', 'How long is the heat pump warranty?'], env);
    expect(own.stdout).toBe('It lasts seven years.\n  [Heat pump contract, page 9]\n');
    const other = await runAsk(['--user', 'web:someone-else', 'How long is the heat pump warranty?'], env);
    expect(other.stdout).toBe('I do not know.\n');
  });

  it('explains a missing question and a missing model', async () => {
    const missing = await runAsk([], env);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/Missing the question/);
    const noModel = await runAsk(['hello'], {
      DATA_DIR: dataDir,
      EMBEDDING_DIMENSIONS: String(DIMENSIONS),
      OPENAI_API_KEY: '',
      OPENAI_BASE_URL: '',
    });
    expect(noModel.code).not.toBe(0);
    expect(noModel.stderr).toMatch(/OPENAI_API_KEY/);
    expect(noModel.stderr).not.toMatch(/\n\s+at /);
  });

  it('logs nothing of the question, the remembered fact or the answer, at info or debug', async () => {
    const marker = 'Zqx7Gate9';
    const previous = fakes.openai.chatResponder;
    fakes.openai.chatResponder = (request) =>
      request.toolResult !== undefined
        ? { text: 'Noted.' }
        : { toolCalls: [{ name: 'remember', arguments: { fact: `The gate code is ${marker}.` } }] };
    try {
      // Debug logs everything info does, and more.
      const result = await runApp('ask.ts', ['--user', 'web:log-check', `remember gate ${marker}`], {
        ...env,
        DATABASE_URL: '',
        LOG_LEVEL: 'debug',
      });
      expect(result.code).toBe(0);
      expect(result.stdout).toBe('Noted.\n');
      expect(result.stdout + result.stderr).not.toContain(marker);
    } finally {
      fakes.openai.chatResponder = previous;
    }
  });
});
