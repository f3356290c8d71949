import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';

/** Names a Chromium goes by on Debian, Ubuntu and with Google's packages. */
const NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];
/** Looked in after PATH: where distributions install it, also when PATH is trimmed. */
const USUAL_DIRECTORIES = ['/usr/bin'];

/** What the browser test does on this machine. */
export type BrowserTestPlan =
  | { action: 'run'; executable: string }
  /** `reason` is one line: what is missing and how to enable the test. */
  | { action: 'skip'; reason: string }
  | { action: 'fail'; reason: string };

export interface BrowserSearch {
  /** CHROMIUM_PATH, PATH and CI are read from it. */
  env: Record<string, string | undefined>;
  /** Whether a file exists and may be executed; the real file system by default. */
  isExecutable?: (file: string) => boolean;
}

/**
 * Finds the Chromium the browser test drives: CHROMIUM_PATH when set (and then only
 * it: a wrong path is a mistake worth hearing about), else the usual names on PATH and
 * in /usr/bin. Without one the test is skipped, except under CI, where a skipped
 * browser test would hide a broken page.
 */
export function planBrowserTest({ env, isExecutable = canExecute }: BrowserSearch): BrowserTestPlan {
  const explicit = env.CHROMIUM_PATH?.trim();
  let missing: string;
  if (explicit) {
    if (isExecutable(explicit)) return { action: 'run', executable: explicit };
    missing = `CHROMIUM_PATH=${explicit} is not an executable file`;
  } else {
    const directories = [...(env.PATH ?? '').split(path.delimiter).filter(Boolean), ...USUAL_DIRECTORIES];
    for (const directory of directories) {
      for (const name of NAMES) {
        const candidate = path.join(directory, name);
        if (isExecutable(candidate)) return { action: 'run', executable: candidate };
      }
    }
    missing = `no Chromium found (looked for ${NAMES.join(', ')} on PATH and in ${USUAL_DIRECTORIES.join(', ')})`;
  }
  const enable = 'install it (apt-get install chromium) or set CHROMIUM_PATH to run it';
  return isContinuousIntegration(env)
    ? { action: 'fail', reason: `The browser test must run under CI, but ${missing}: ${enable}.` }
    : { action: 'skip', reason: `browser test skipped: ${missing}; ${enable}.` };
}

/** CI=true (or any value but false/0), as CI services and .ci/run set it. */
export function isContinuousIntegration(env: Record<string, string | undefined>): boolean {
  const value = env.CI?.trim().toLowerCase();
  return value !== undefined && value !== '' && value !== 'false' && value !== '0';
}

function canExecute(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}
