import { copyFile, constants, link, lstat, mkdir, rm, rmdir, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { AttachedFile } from '@concierge/shared';
import { extractZip, freeName, type ZipLimits } from './extract-zip.ts';
import type { StagedFile } from './receive-multipart.ts';
import { sanitizeFileName } from './sanitize-file-name.ts';
import { UploadError } from './upload-error.ts';

/** The workspace folder uploads land in. */
export const UPLOADS_DIR = 'uploads';

/** Archive limits: inflated size and entry count of each ZIP. */
export const DEFAULT_PLACE_UPLOADS_LIMITS: ZipLimits = { maxArchiveBytes: 200 * 1024 * 1024, maxArchiveEntries: 1000 };

const MAX_NOTE_FILES = 50;

async function moveExclusive(source: string, target: string): Promise<void> {
  try {
    // link() fails if the target exists (even as a dangling symlink), so nothing is ever overwritten.
    await link(source, target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    await copyFile(source, target, constants.COPYFILE_EXCL);
  }
  await unlink(source);
}

async function uploadsDirOf(workspaceDir: string): Promise<string> {
  const dir = path.join(workspaceDir, UPLOADS_DIR);
  await mkdir(dir, { recursive: true });
  // The sandbox can replace uploads/ with a link; following it would let a command aim our writes anywhere.
  const stats = await lstat(dir);
  if (stats.isSymbolicLink() || !stats.isDirectory()) {
    throw new UploadError(`The workspace's ${UPLOADS_DIR}/ is not a folder; remove it and upload again`, 'VALIDATION_ERROR', 400);
  }
  return dir;
}

function isZip(name: string): boolean {
  return name.toLowerCase().endsWith('.zip') && name.length > 4;
}

async function discardStaged(files: StagedFile[]): Promise<void> {
  await Promise.all(files.map((file) => rm(file.path, { force: true })));
  for (const dir of new Set(files.map((file) => path.dirname(file.path)))) await rmdir(dir).catch(() => undefined);
}

/**
 * Moves staged files into `<workspace>/uploads/` under sanitised, collision-free names and extracts ZIP
 * archives into `uploads/<archive name>/`. All or nothing: on any refusal it removes what it placed and
 * throws UploadError. Staged files are always deleted.
 */
export async function placeUploads(workspaceDir: string, files: StagedFile[], limits: ZipLimits = DEFAULT_PLACE_UPLOADS_LIMITS): Promise<AttachedFile[]> {
  const placed: string[] = [];
  const attached: AttachedFile[] = [];
  try {
    const uploadsDir = await uploadsDirOf(workspaceDir);
    for (const file of files) {
      const name = sanitizeFileName(file.name);
      if (isZip(name)) {
        const folder = await freeName(uploadsDir, sanitizeFileName(name.slice(0, -4)));
        const target = path.join(uploadsDir, folder);
        await mkdir(target);
        placed.push(target);
        for (const relative of await extractZip(file.path, target, name, limits)) {
          attached.push({ name: path.posix.basename(relative), path: `${UPLOADS_DIR}/${folder}/${relative}` });
        }
      } else {
        const finalName = await freeName(uploadsDir, name);
        const target = path.join(uploadsDir, finalName);
        await moveExclusive(file.path, target);
        placed.push(target);
        attached.push({ name: finalName, path: `${UPLOADS_DIR}/${finalName}` });
      }
    }
    return attached;
  } catch (error) {
    await Promise.all(placed.map((target) => rm(target, { recursive: true, force: true })));
    if (error instanceof UploadError) throw error;
    throw new UploadError(`Could not store the uploaded files: ${(error as Error).message}`, 'VALIDATION_ERROR', 400);
  } finally {
    await discardStaged(files);
  }
}

/** The note prepended to the user's message so the agent knows where the attached files are. */
export function formatAttachedFilesNote(files: AttachedFile[]): string {
  if (files.length === 0) return '';
  const lines = files.slice(0, MAX_NOTE_FILES).map((file) => `- ${file.path}`);
  if (files.length > MAX_NOTE_FILES) lines.push(`- … and ${files.length - MAX_NOTE_FILES} more under ${UPLOADS_DIR}/`);
  return `The user attached these files in the workspace:\n${lines.join('\n')}`;
}
