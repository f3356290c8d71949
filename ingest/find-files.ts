import { readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';

/** The files to ingest from a list of files and folders, and the paths that could not be used. */
export interface FoundFiles {
  /** Absolute paths, in the order given, each folder's files sorted by name; no duplicates. */
  readonly files: string[];
  readonly problems: { readonly path: string; readonly message: string }[];
}

/**
 * Expands files and folders into files. Folders are walked recursively,
 * skipping entries whose names start with a dot (`.git`, `.DS_Store`);
 * symbolic links are followed, each real folder visited once so a link cycle
 * ends. A file named explicitly is taken even when it is a dotfile.
 */
export async function findFiles(paths: readonly string[], cwd = process.cwd()): Promise<FoundFiles> {
  const files: string[] = [];
  const problems: FoundFiles['problems'] = [];
  const seenFiles = new Set<string>();
  const seenFolders = new Set<string>();

  const addFile = (file: string): void => {
    if (seenFiles.has(file)) return;
    seenFiles.add(file);
    files.push(file);
  };
  const walk = async (folder: string, shownAs: string): Promise<void> => {
    const real = await realpath(folder);
    if (seenFolders.has(real)) return;
    seenFolders.add(real);
    let names: string[];
    try {
      names = (await readdir(folder)).sort();
    } catch (error) {
      problems.push({ path: shownAs, message: describeFileError(error) });
      return;
    }
    for (const name of names) {
      if (name.startsWith('.')) continue;
      const entry = path.join(folder, name);
      const kind = await kindOf(entry);
      if (kind === 'folder') await walk(entry, path.join(shownAs, name));
      else if (kind === 'file') addFile(entry);
    }
  };

  for (const given of paths) {
    const absolute = path.resolve(cwd, given);
    try {
      const kind = await kindOf(absolute, true);
      if (kind === 'folder') await walk(absolute, given);
      else if (kind === 'file') addFile(absolute);
      else problems.push({ path: given, message: 'This is neither a file nor a folder.' });
    } catch (error) {
      problems.push({ path: given, message: describeFileError(error) });
    }
  }
  return { files, problems };
}

/** What a path is, following links; a broken link inside a folder counts as nothing. */
async function kindOf(entry: string, throwIfMissing = false): Promise<'file' | 'folder' | 'other'> {
  try {
    const stats = await stat(entry);
    return stats.isDirectory() ? 'folder' : stats.isFile() ? 'file' : 'other';
  } catch (error) {
    if (throwIfMissing) throw error;
    return 'other';
  }
}

/** A file system error in plain words. */
export function describeFileError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'No such file or folder.';
  if (code === 'EACCES' || code === 'EPERM') return 'Permission denied: this user may not read it.';
  if (code === 'EISDIR') return 'This is a folder, not a file.';
  return error instanceof Error ? error.message : String(error);
}
