import { describe, expect, it } from 'vitest';
import { cleanFileName, MAX_FILE_NAME_LENGTH, UNNAMED_FILE } from './file-name.ts';

describe('cleanFileName', () => {
  it.each([
    ['report\u0000.png', 'report .png'],
    ['line\nbreak\r\n.pdf', 'line break .pdf'],
    ['bell\u0007 and\u001b[31mescape.png', 'bell and [31mescape.png'],
    ['del\u007f and c1\u0085.png', 'del and c1 .png'],
    ['photo\u202Egnp.exe', 'photognp.exe'],
    ['  spaced   out .png ', 'spaced out .png'],
    ['Zoë’s notes — 第一.pdf', 'Zoë’s notes — 第一.pdf'],
    ['family 👨\u200d👩\u200d👧.jpg', 'family 👨\u200d👩\u200d👧.jpg'],
    ['\u0000\u0001\u202E', UNNAMED_FILE],
  ])('makes %j safe: %j', (name, expected) => {
    expect(cleanFileName(name)).toBe(expected);
  });

  it('shortens a long name before its extension', () => {
    const cleaned = cleanFileName(`${'x'.repeat(5000)}.png`);
    expect([...cleaned]).toHaveLength(MAX_FILE_NAME_LENGTH);
    expect(cleaned.endsWith('x.png')).toBe(true);
    expect([...cleanFileName('é'.repeat(300))]).toHaveLength(MAX_FILE_NAME_LENGTH);
  });
});
