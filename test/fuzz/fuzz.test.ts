import { describe, expect, it } from 'vitest';
import { runFuzz } from './fuzz-run.ts';

describe('fuzzing the upload path', () => {
  it('takes 300 damaged PDFs and images without a crash, a hang, or anything left behind', async () => {
    const report = await runFuzz({ count: 300, seed: 20_261_129, hangMs: 45_000 });
    expect(report).toMatchObject({
      files: 300,
      strayRejections: 0,
      hangs: 0,
      partialRows: 0,
      leftoverFiles: 0,
      failingSeeds: [],
    });
    // The mutants really are damaged: most are refused, and every kind of damage was tried.
    expect(Object.keys(report.byMutation).sort()).toEqual([
      'bit-flips',
      'duplication',
      'header',
      'splice',
      'truncation',
    ]);
    expect((report.outcomes.corrupt ?? 0) + (report.outcomes['unsupported-type'] ?? 0)).toBeGreaterThan(100);
  }, 300_000);
});
