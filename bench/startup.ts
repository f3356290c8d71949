import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakes } from '../test/fakes/index.ts';
import {
  benchArguments,
  humanOutput,
  numberOption,
  percentile,
  printChecks,
  printTable,
  summarize,
  writeResults,
  type Check,
  type Metric,
} from './report.ts';

/**
 * `startup`: `npm start` until `GET /healthz` answers 200, on a fresh embedded database
 * (a new DATA_DIR: the database is created and migrated) and on an existing one (the
 * DATA_DIR of an earlier start), alternating. Providers point at the fakes, so the app
 * starts as a configured one does (voice models load in the background). A first,
 * untimed start builds the page when it is missing or stale.
 *
 * Options: --repetitions 5 (per kind) --timeout 60 (seconds to wait for a healthy server)
 */

const { json, options } = benchArguments();
const out = humanOutput(json);
const repetitions = numberOption(options, 'repetitions', 5);
const timeoutMs = numberOption(options, 'timeout', 60) * 1000;
const REPOSITORY = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Starts `npm start` in its own process group; resolves with the ms until /healthz said 200, then stops it. */
async function timeStart(environment: Record<string, string>, dataDir: string): Promise<number> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn('npm', ['start', '--silent'], {
    cwd: REPOSITORY,
    env: { ...process.env, ...environment, DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  const collect = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000));
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  let exitCode: number | null | undefined;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code) => {
      exitCode = code;
      resolve();
    }),
  );
  const stop = async () => {
    if (exitCode !== undefined || child.pid === undefined) return;
    process.kill(-child.pid, 'SIGINT');
    const killer = setTimeout(() => child.pid !== undefined && process.kill(-child.pid, 'SIGKILL'), 15_000);
    await exited;
    clearTimeout(killer);
  };
  try {
    for (;;) {
      if (exitCode !== undefined)
        throw new Error(
          `npm start exited (code ${exitCode}) before GET /healthz answered; its output:\n${output}`,
        );
      if (performance.now() - started > timeoutMs)
        throw new Error(
          `GET http://127.0.0.1:${port}/healthz did not answer 200 within ${timeoutMs / 1000} s of npm start ` +
            `(is the web server built? see web/server); its output:\n${output}`,
        );
      const healthy = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(1000) })
        .then((response) => response.status === 200)
        .catch(() => false);
      if (healthy) return performance.now() - started;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  } finally {
    await stop();
  }
}

const benchStarted = performance.now();
const fakes = await startFakes();
// Explicit values for everything a developer's .env could set otherwise (empty means unset).
const environment: Record<string, string> = {
  ...fakes.environment,
  DATABASE_URL: '',
  LIVEKIT_URL: '',
  APP_ACCESS_KEY: '',
  REDIS_URL: '',
  LOG_LEVEL: 'warn',
};
const directories: string[] = [];
const newDataDir = async () => {
  const directory = await mkdtemp(path.join(tmpdir(), 'assistant-startup-'));
  directories.push(directory);
  return directory;
};
const fresh: number[] = [];
const existing: number[] = [];
let priming: number | undefined;
let failure: string | undefined;
try {
  const existingDir = await newDataDir();
  out.write('startup: first start (builds the page if needed, creates the database reused below)...\n');
  priming = await timeStart(environment, existingDir);
  for (let index = 0; index < repetitions; index++) {
    fresh.push(await timeStart(environment, await newDataDir()));
    existing.push(await timeStart(environment, existingDir));
    out.write(
      `  start ${index + 1}: fresh ${fresh.at(-1)!.toFixed(0)} ms, existing ${existing.at(-1)!.toFixed(0)} ms\n`,
    );
  }
} catch (error) {
  failure = (error as Error).message;
} finally {
  await fakes.close();
  await Promise.all(directories.map((directory) => rm(directory, { recursive: true, force: true })));
}

const seconds = (samples: number[]) => samples.map((ms) => ms / 1000);
const metrics: Metric[] = [];
if (priming !== undefined) metrics.push(summarize('startup.first-start', 's', seconds([priming])));
if (fresh.length > 0)
  metrics.push(
    summarize('startup.fresh-database', 's', seconds(fresh), {
      ratio: percentile(fresh, 50) / percentile(existing, 50),
    }),
    summarize('startup.existing-database', 's', seconds(existing)),
  );
// Issue 13's targets: the first start after `npm install` (which builds the page and the
// database template) within 10 s, later ones within 4 s on a new database and 3 s on an existing one.
const checks: Check[] = [];
if (priming !== undefined)
  checks.push({ what: 'first start to ready', actual: priming / 1000, limit: 10, unit: 's', kind: 'max' });
if (fresh.length > 0) {
  checks.push({
    what: 'fresh database: start to ready p95',
    actual: percentile(fresh, 95) / 1000,
    limit: 4,
    unit: 's',
    kind: 'max',
  });
  checks.push({
    what: 'existing database: start to ready p95',
    actual: percentile(existing, 95) / 1000,
    limit: 3,
    unit: 's',
    kind: 'max',
  });
}
printTable(
  `startup: npm start to GET /healthz 200, ${((performance.now() - benchStarted) / 1000).toFixed(0)} s`,
  metrics,
  out,
);
printChecks(checks, out);
if (failure) out.write(`\nstartup could not be measured: ${failure}\n`);
await writeResults('startup', metrics, json);
process.exit(failure ? 1 : 0);
