import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { planBrowserTest } from './chromium.ts';

const only =
  (...files: string[]) =>
  (file: string) =>
    files.includes(file);

describe('planBrowserTest', () => {
  it('uses CHROMIUM_PATH when it points at an executable', () => {
    expect(
      planBrowserTest({
        env: { CHROMIUM_PATH: '/opt/chrome/chrome' },
        isExecutable: only('/opt/chrome/chrome'),
      }),
    ).toEqual({ action: 'run', executable: '/opt/chrome/chrome' });
  });

  it('does not fall back to another browser when CHROMIUM_PATH is wrong', () => {
    const plan = planBrowserTest({
      env: { CHROMIUM_PATH: '/nonexistent', PATH: '/usr/bin' },
      isExecutable: only('/usr/bin/chromium'),
    });
    expect(plan).toEqual({
      action: 'skip',
      reason:
        'browser test skipped: CHROMIUM_PATH=/nonexistent is not an executable file; install it (apt-get install chromium) or set CHROMIUM_PATH to run it.',
    });
  });

  it('finds the usual names on PATH, in PATH order', () => {
    const plan = planBrowserTest({
      env: { PATH: ['/home/me/bin', '/usr/local/bin'].join(path.delimiter) },
      isExecutable: only('/usr/local/bin/chromium', '/home/me/bin/google-chrome'),
    });
    expect(plan).toEqual({ action: 'run', executable: '/home/me/bin/google-chrome' });
  });

  it('looks in /usr/bin even when PATH does not include it', () => {
    expect(
      planBrowserTest({ env: { PATH: '/somewhere/else' }, isExecutable: only('/usr/bin/chromium-browser') }),
    ).toEqual({ action: 'run', executable: '/usr/bin/chromium-browser' });
  });

  it('skips in one line without a browser, and fails under CI', () => {
    const none = () => false;
    const skipped = planBrowserTest({ env: { PATH: '/bin' }, isExecutable: none });
    expect(skipped.action).toBe('skip');
    if (skipped.action === 'run') return;
    expect(skipped.reason).not.toContain('\n');
    expect(skipped.reason).toMatch(/CHROMIUM_PATH/);
    expect(planBrowserTest({ env: { PATH: '/bin', CI: 'false' }, isExecutable: none }).action).toBe('skip');
    const failed = planBrowserTest({ env: { PATH: '/bin', CI: 'true' }, isExecutable: none });
    expect(failed.action).toBe('fail');
    if (failed.action === 'run') return;
    expect(failed.reason).toMatch(/^The browser test must run under CI, but no Chromium found/);
  });
});
