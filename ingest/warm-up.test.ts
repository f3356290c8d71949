import { describe, expect, it, vi } from 'vitest';

describe('warmUpPdfReading', () => {
  it('reads its built-in one-page PDF without error', async () => {
    const media = await import('../media/index.ts');
    const extract = vi.spyOn(media, 'extractPdfText');
    const { warmUpPdfReading } = await import('./warm-up.ts');
    await warmUpPdfReading();
    expect(extract).toHaveBeenCalledTimes(1);
    await expect(extract.mock.results[0]?.value).resolves.toEqual([{ pageNumber: 1, text: 'Ready' }]);
  });
});
