import { describe, expect, it } from 'vitest';
import { citationLabel, formatTimestamp } from './citations.ts';

describe('citations as people read them', () => {
  it('writes a moment as m:ss or h:mm:ss, rounded down', () => {
    expect(formatTimestamp(0)).toBe('0:00');
    expect(formatTimestamp(7_999)).toBe('0:07');
    expect(formatTimestamp(754_000)).toBe('12:34');
    expect(formatTimestamp(3_723_000)).toBe('1:02:03');
  });

  it('names the page of a document and the moment (and speaker) of a recording', () => {
    expect(citationLabel({ title: 'Manual', page: 3 })).toBe('Manual, page 3');
    expect(citationLabel({ title: 'Notes', page: null })).toBe('Notes');
    expect(citationLabel({ title: 'Budget', page: null, startMs: 754_000, speaker: 'Speaker 2' })).toBe(
      'Budget, 12:34 (Speaker 2)',
    );
    expect(citationLabel({ title: 'Memo', page: null, startMs: 5_000, speaker: null })).toBe('Memo, 0:05');
  });
});
