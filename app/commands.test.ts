import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findUserByIdentity, openDatabase } from '../db/index.ts';
import { startFakes, type Fakes } from '../test/fakes/index.ts';
import { runApp, type CommandOutcome } from '../test/support/run-command.ts';

const DIMENSIONS = 16;
/** Each command is a tsx process; on a loaded two-core machine one takes up to half a minute. */
const CHILD_TIMEOUT_MS = 180_000;
const TEST_TIMEOUT_MS = 400_000;

/**
 * What every command prints: `--json` output is JSON alone on stdout even with the most
 * talkative logging, misuse is one line on stderr and a non-zero exit, and a user is
 * written the same way for every command.
 */
describe('the commands', () => {
  let fakes: Fakes;
  let root: string;
  let env: Record<string, string>;
  const run = (script: string, args: string[], logLevel = 'debug'): Promise<CommandOutcome> =>
    runApp(script, args, { ...env, LOG_LEVEL: logLevel }, { cwd: root, timeoutMs: CHILD_TIMEOUT_MS });

  beforeAll(async () => {
    fakes = await startFakes({ openai: { embeddingDimensions: DIMENSIONS } });
    fakes.openai.chatResponder = () => ({ text: 'The heat pump warranty lasts seven years [S1].' });
    root = await mkdtemp(path.join(tmpdir(), 'commands-'));
    env = {
      ...fakes.environment,
      DATABASE_URL: '',
      EMBEDDING_DIMENSIONS: String(DIMENSIONS),
      DATA_DIR: path.join(root, 'data'),
    };
    await writeFile(
      path.join(root, 'warranty.md'),
      '# Warranty\n\nThe heat pump warranty lasts seven years.\n',
    );
  });
  afterAll(async () => {
    await fakes?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it(
    'prints JSON alone on stdout for ingest --json and ask --json, logs and all',
    async () => {
      const ingested = await run('ingest.ts', ['warranty.md', '--user', 'web:alice', '--json']);
      expect(ingested.code).toBe(0);
      expect(JSON.parse(ingested.stdout)).toMatchObject([{ file: 'warranty.md', status: 'created' }]);

      const asked = await run('ask.ts', ['--user', 'web:alice', '--json', 'How long is the warranty?']);
      expect(asked.code).toBe(0);
      expect(JSON.parse(asked.stdout)).toMatchObject({ answer: 'The heat pump warranty lasts seven years.' });
      // The framework did log (to stderr): the test would not see a stray stdout line otherwise.
      expect(asked.stderr).toMatch(/"level":\d+/);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'takes a user id wherever it takes web: and phone: identities',
    async () => {
      // alice exists since the test above; her user id works like her web: identity.
      const database = await openDatabase({ dataDir: env.DATA_DIR!, embeddingDimensions: DIMENSIONS });
      const alice = await findUserByIdentity(database.pool, { kind: 'web', value: 'alice' }).finally(() =>
        database.close(),
      );
      expect(alice).toMatch(/^[0-9a-f-]{36}$/);
      const asked = await run('ask.ts', ['--user', alice!, '--json', 'How long is the warranty?'], 'silent');
      expect(JSON.parse(asked.stdout)).toMatchObject({ citations: [{ title: 'Warranty' }] });
      const erased = await run('erase.ts', ['--user', alice!, '--json'], 'silent');
      expect(JSON.parse(erased.stdout)).toMatchObject({ userFound: true, rowsDeleted: { documents: 1 } });

      const missing = '00000000-0000-4000-8000-000000000000';
      const askMissing = await run('ask.ts', ['--user', missing, 'Anything?'], 'silent');
      expect(askMissing).toMatchObject({
        code: 1,
        stdout: '',
        stderr: `error: There is no user ${missing}.\n`,
      });
      const eraseMissing = await run('erase.ts', ['--user', missing, '--json'], 'silent');
      expect(JSON.parse(eraseMissing.stdout)).toMatchObject({ userFound: false });
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'refuses a plain name with the same message in every command',
    async () => {
      const outcomes = await Promise.all([
        run('ask.ts', ['--user', 'alice', 'hello']),
        run('ingest.ts', ['warranty.md', '--user', 'alice']),
        run('erase.ts', ['--user', 'alice']),
      ]);
      const refusal =
        '--user "alice" is not a user: write a user id (UUID), web:<id> or phone:<E.164 number, like +15551234567>. ' +
        'For a person of your own naming, write web:alice.';
      for (const outcome of outcomes) {
        expect(outcome.code).toBe(1);
        expect(outcome.stdout).toBe('');
        expect(outcome.stderr.startsWith(`error: ${refusal} Usage: npm run `)).toBe(true);
      }
      const empty = await run('erase.ts', ['--user', 'web:']);
      expect(empty).toMatchObject({ code: 1, stdout: '' });
      expect(empty.stderr).toMatch(/^error: --user "web:" names no one/);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'answers misuse with one line and a non-zero exit',
    async () => {
      const misuses: [string, string[], RegExp][] = [
        ['ask.ts', ['--frob', 'hello'], /Unknown option '--frob'/],
        ['ask.ts', [], /Missing the question/],
        ['ingest.ts', ['--user'], /argument missing/],
        ['ingest.ts', [], /Name at least one file or folder/],
        ['erase.ts', [], /Missing --user/],
        ['migrate.ts', ['now'], /Unexpected argument 'now'/],
        ['call.ts', [], /Missing the number to call/],
      ];
      const outcomes = await Promise.all(misuses.map(([script, args]) => run(script, args)));
      for (const [index, outcome] of outcomes.entries()) {
        const [script, args, expected] = misuses[index]!;
        const what = `${script} ${args.join(' ')}`;
        expect(outcome.code, what).toBe(1);
        expect(outcome.stdout, what).toBe('');
        expect(outcome.stderr, what).toMatch(/^error: [^\n]+\n$/);
        expect(outcome.stderr, what).toMatch(expected);
      }
    },
    TEST_TIMEOUT_MS,
  );
});
