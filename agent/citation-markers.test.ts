import { describe, expect, it } from 'vitest';
import { CitationMarkerFilter, stripCitationMarkers } from './citation-markers.ts';

describe('citation markers', () => {
  it('removes markers and records the cited ids', () => {
    expect(stripCitationMarkers('The code is ZX-4471 [S1]. It lasts two years [S2, s3].')).toEqual({
      text: 'The code is ZX-4471. It lasts two years.',
      cited: ['S1', 'S2', 'S3'],
    });
  });

  it('handles markers split across streamed pieces', () => {
    const filter = new CitationMarkerFilter();
    const pieces = ['The valve', ' is blue [', 'S', '1', '] and', ' cheap [S2', ']'];
    const output = pieces.map((piece) => filter.push(piece)).join('') + filter.end();
    expect(output).toBe('The valve is blue and cheap');
    expect(filter.cited).toEqual(['S1', 'S2']);
  });

  it('leaves other brackets alone, even when split', () => {
    const filter = new CitationMarkerFilter();
    const output =
      ['Press [', 'Enter] then [S', 'ee note]', ' [3]'].map((piece) => filter.push(piece)).join('') +
      filter.end();
    expect(output).toBe('Press [Enter] then [See note] [3]');
    expect(filter.cited).toEqual([]);
  });

  it('gives back an unfinished bracket at the end', () => {
    const filter = new CitationMarkerFilter();
    expect(filter.push('almost [S4')).toBe('almost');
    expect(filter.end()).toBe(' [S4');
  });
});
