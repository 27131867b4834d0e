import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';
import type { Workspace } from '../../runtime/workspace/open-workspace.ts';
import { freeName } from './free-name.ts';
import { sanitizeFileName } from './sanitize-file-name.ts';
import { UploadError } from './upload-error.ts';

/** How much an archive may expand to, counted in real inflated bytes and entries. */
export interface ZipLimits {
  maxArchiveBytes: number;
  maxArchiveEntries: number;
}

/** Folders an entry's path may nest, and characters it may have: far beyond any real archive, far below PATH_MAX. */
const MAX_ENTRY_DEPTH = 32;
const MAX_ENTRY_PATH_CHARS = 1024;

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

function openZip(file: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true, decodeStrings: true, validateEntrySizes: true, autoClose: true }, (error, zip) => {
      if (error || !zip) reject(error ?? new Error('no archive'));
      else resolve(zip);
    });
  });
}

function openEntry(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<NodeJS.ReadableStream> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (error, stream) => {
      if (error || !stream) reject(error ?? new Error('no stream'));
      else resolve(stream);
    });
  });
}

/**
 * Extracts `zipPath` into the fresh, empty workspace folder at `target` (segments below the root), keeping
 * folders, through the workspace's descriptors. Refuses (UploadError VALIDATION_ERROR) zip-slip paths,
 * links and other special entries, more than `maxArchiveEntries` entries, or more than `maxArchiveBytes`
 * once inflated (counted while inflating, not from headers). Returns the extracted files' paths relative
 * to `target`. The caller removes `target` on failure.
 */
export async function extractZip(zipPath: string, workspace: Workspace, target: string[], displayName: string, limits: ZipLimits): Promise<string[]> {
  const refuse = (why: string) => new UploadError(`The archive "${displayName}" was refused: ${why}. Nothing from it was kept.`, 'VALIDATION_ERROR', 400);
  const tooBig = () => refuse(`it expands to more than ${Math.round(limits.maxArchiveBytes / 1024 / 1024)} MB`);
  let zip: yauzl.ZipFile;
  try {
    zip = await openZip(zipPath);
  } catch (error) {
    throw refuse(`it is not a readable ZIP archive (${(error as Error).message})`);
  }
  if (zip.entryCount > limits.maxArchiveEntries) {
    zip.close();
    throw refuse(`it has ${zip.entryCount} entries, more than the ${limits.maxArchiveEntries} allowed`);
  }
  const extracted: string[] = [];
  let totalBytes = 0;
  // Files and the folders their paths imply: a 4 KB entry `a/a/…/a/` is thousands of folders, each an inode.
  let entries = 0;
  const folders = new Set<string>();

  const handleEntry = async (entry: yauzl.Entry): Promise<void> => {
    entries++;
    if (entries > limits.maxArchiveEntries) throw refuse(`it has more than ${limits.maxArchiveEntries} entries`);
    const type = (entry.externalFileAttributes >>> 16) & S_IFMT;
    if (type === S_IFLNK) throw refuse(`it contains a symbolic link ("${entry.fileName}")`);
    const isDirectory = entry.fileName.endsWith('/') || type === S_IFDIR;
    if (type !== 0 && type !== S_IFREG && type !== S_IFDIR) throw refuse(`it contains a special file ("${entry.fileName}")`);
    const rawSegments = entry.fileName.split('/').filter((segment) => segment.length > 0);
    if (entry.fileName.startsWith('/') || rawSegments.some((segment) => segment === '..')) {
      throw refuse(`the entry "${entry.fileName}" points outside its folder`);
    }
    const segments = rawSegments.filter((segment) => segment !== '.').map(sanitizeFileName);
    if (segments.length === 0) return;
    if (segments.length > MAX_ENTRY_DEPTH) throw refuse(`the entry "${entry.fileName.slice(0, 80)}…" nests more than ${MAX_ENTRY_DEPTH} folders deep`);
    if (segments.join('/').length > MAX_ENTRY_PATH_CHARS) throw refuse(`the entry "${entry.fileName.slice(0, 80)}…" has a path longer than ${MAX_ENTRY_PATH_CHARS} characters`);
    const implied = isDirectory ? segments.length : segments.length - 1;
    for (let depth = 1; depth <= implied; depth++) {
      const folder = segments.slice(0, depth).join('/');
      if (folders.has(folder)) continue;
      folders.add(folder);
      // The folder itself counts, less the one this entry already counted when it is that folder.
      if (!(isDirectory && depth === implied)) entries++;
    }
    if (entries > limits.maxArchiveEntries) throw refuse(`it has more than ${limits.maxArchiveEntries} files and folders`);
    if (totalBytes + entry.uncompressedSize > limits.maxArchiveBytes) throw tooBig();
    const dirSegments = isDirectory ? segments : segments.slice(0, -1);
    const parent = await workspace.openDirectory([...target, ...dirSegments], displayName, { create: true });
    let name: string;
    try {
      if (isDirectory) return;
      name = await freeName(parent, segments[segments.length - 1] as string);
    } finally {
      await parent.close();
    }
    const file = await workspace.createFile([...target, ...dirSegments, name], displayName, { exclusive: true });
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        totalBytes += chunk.length;
        if (totalBytes > limits.maxArchiveBytes) callback(tooBig());
        else callback(null, chunk);
      },
    });
    await pipeline(await openEntry(zip, entry), counter, file.createWriteStream());
    extracted.push([...dirSegments, name].join('/'));
  };

  await new Promise<void>((resolve, reject) => {
    let failed = false;
    const fail = (error: unknown) => {
      if (failed) return;
      failed = true;
      zip.close();
      reject(error instanceof UploadError ? error : refuse((error as Error).message));
    };
    zip.on('entry', (entry: yauzl.Entry) => {
      handleEntry(entry).then(() => {
        if (!failed) zip.readEntry();
      }, fail);
    });
    zip.on('error', fail);
    zip.on('end', () => {
      if (!failed) resolve();
    });
    zip.readEntry();
  });
  return extracted;
}
