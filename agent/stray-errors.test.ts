import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const MODULE = new URL('./stray-errors.ts', import.meta.url).href;

/** Runs `body` in a fresh Node process that has installed the handlers (they are process-wide). */
function runWithHandlers(body: string) {
  const script = `import { installStrayErrorHandlers, strayErrorCounts } from '${MODULE}';\ninstallStrayErrorHandlers();\n${body}`;
  return spawnSync(process.execPath, ['--import', TSX_LOADER, '--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 30_000,
  });
}

describe('stray error handlers', () => {
  it('log and count a rejection nobody handled, and the process carries on', () => {
    const run = runWithHandlers(`
      Promise.reject(new Error('lost in a library'));
      void Promise.reject(new Error('another one'));
      setTimeout(() => console.log(JSON.stringify(strayErrorCounts())), 50);
    `);
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ rejections: 2, exceptions: 0 });
    expect(run.stderr).toContain('a promise rejection nobody handled, in this process; carrying on');
    expect(run.stderr).toContain('Error: lost in a library');
  });

  it('log an exception nobody caught and stop with status 1', () => {
    const run = runWithHandlers(`
      setTimeout(() => { throw new Error('thrown from a timer'); }, 0);
      setTimeout(() => console.log('still running'), 200);
    `);
    expect(run.status).toBe(1);
    expect(run.stdout).not.toContain('still running');
    expect(run.stderr).toContain('an exception nobody caught; stopping: Error: thrown from a timer');
  });
});
