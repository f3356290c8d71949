import { describe, expect, it } from 'vitest';
import { DocumentReader } from './document-reader.ts';
import { warmUpPdfReading } from './warm-up.ts';

describe('warmUpPdfReading', () => {
  it('reads its built-in one-page PDF in a reader process', async () => {
    const reader = new DocumentReader({ readers: 1 });
    try {
      expect(await warmUpPdfReading(reader)).toBe(true);
    } finally {
      await reader.close();
    }
  });
});
