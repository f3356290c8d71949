import type { Citation } from './events.ts';

/**
 * A moment of a recording as people write it: "0:07", "12:34", "1:02:03"
 * (seconds rounded down, so the moment shown is never after the words).
 */
export function formatTimestamp(milliseconds: number): string {
  const total = Math.max(0, Math.floor(milliseconds / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${seconds}` : `${minutes}:${seconds}`;
}

/**
 * A citation as shown to people, the same in the page, `npm run ask` and `npm run turns`:
 * "Manual, page 3", "Notes", or for a recording "Budget meeting, 12:34 (Speaker 2)".
 */
export function citationLabel(citation: Pick<Citation, 'title' | 'page' | 'startMs' | 'speaker'>): string {
  if (citation.startMs !== undefined && citation.startMs !== null) {
    const speaker = citation.speaker ? ` (${citation.speaker})` : '';
    return `${citation.title}, ${formatTimestamp(citation.startMs)}${speaker}`;
  }
  return citation.page === null ? citation.title : `${citation.title}, page ${citation.page}`;
}

/**
 * Where the page fetches a recording the user uploaded, to play a cited moment
 * (`<audio src>`, which seeks with HTTP Range requests).
 */
export function recordingMediaPath(documentId: string): string {
  return `/api/recordings/${encodeURIComponent(documentId)}/media`;
}
