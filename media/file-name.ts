/** Longest file name kept, in characters (what most file systems allow). */
export const MAX_FILE_NAME_LENGTH = 255;
/** What a file whose name is nothing but invisible characters is called. */
export const UNNAMED_FILE = 'unnamed file';

/**
 * A file name as the user sent it, made safe to store, show and speak: control characters
 * (NUL, newlines, escapes; the database refuses NUL outright) become spaces, bidirectional
 * overrides that could disguise an extension ("photo\u202Egnp.exe") are dropped, runs of
 * spaces collapse, and a name longer than {@link MAX_FILE_NAME_LENGTH} is shortened
 * before its extension. Uploads over the web and LiveKit both pass through it.
 */
export function cleanFileName(name: string): string {
  const cleaned = name
    .normalize('NFC')
    .replace(/[\u200E\u200F\u202A-\u202E\u2066-\u2069\uFEFF]/g, '')
    .replace(/\p{Cc}/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  if (cleaned === '') return UNNAMED_FILE;
  const characters = [...cleaned];
  if (characters.length <= MAX_FILE_NAME_LENGTH) return cleaned;
  const extension = /\.[\p{L}\p{N}]{1,16}$/u.exec(cleaned)?.[0] ?? '';
  return `${characters
    .slice(0, MAX_FILE_NAME_LENGTH - [...extension].length)
    .join('')
    .trimEnd()}${extension}`;
}
