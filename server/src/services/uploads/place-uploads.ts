import { createReadStream } from 'node:fs';
import fs, { rm, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { AttachedFile } from '@concierge/shared';
import { checkWorkspaceBudget, type WorkspaceBudget } from '../../runtime/workspace/check-workspace-budget.ts';
import { entryPath, withWorkspace, type Workspace } from '../../runtime/workspace/open-workspace.ts';
import { WorkspaceAccessError } from '../../runtime/workspace/workspace-access-error.ts';
import { removeTree } from '../../runtime/workspace/remove-tree.ts';
import { extractZip, type ZipLimits } from './extract-zip.ts';
import { freeName } from './free-name.ts';
import type { StagedFile } from './receive-multipart.ts';
import { sanitizeFileName } from './sanitize-file-name.ts';
import { UploadError } from './upload-error.ts';

/** The workspace folder uploads land in. */
export const UPLOADS_DIR = 'uploads';

/** Archive limits: inflated size and entry count of each ZIP. */
export const DEFAULT_PLACE_UPLOADS_LIMITS: ZipLimits = { maxArchiveBytes: 200 * 1024 * 1024, maxArchiveEntries: 1000 };

const MAX_NOTE_FILES = 50;

/** Places one staged file as `uploads/<name>`, never overwriting: a hard link when it can, else a copy. */
async function placeFile(workspace: Workspace, file: StagedFile, name: string): Promise<void> {
  const uploads = await workspace.openDirectory([UPLOADS_DIR], UPLOADS_DIR, { create: true });
  try {
    // link() fails if the target exists (even as a dangling symlink), so nothing is ever overwritten.
    await fs.link(file.path, entryPath(uploads, name));
    if (process.getuid?.() === 0) await fs.lchown(entryPath(uploads, name), workspace.owner.uid, workspace.owner.gid);
    return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
  } finally {
    await uploads.close();
  }
  const target = await workspace.createFile([UPLOADS_DIR, name], name, { exclusive: true });
  await pipeline(createReadStream(file.path), target.createWriteStream());
}

function isZip(name: string): boolean {
  return name.toLowerCase().endsWith('.zip') && name.length > 4;
}

async function discardStaged(files: StagedFile[]): Promise<void> {
  await Promise.all(files.map((file) => rm(file.path, { force: true })));
  for (const dir of new Set(files.map((file) => path.dirname(file.path)))) await rmdir(dir).catch(() => undefined);
}

/** Removes what a failed placement made inside `uploads/`, through the folder's descriptor. */
async function removePlaced(workspace: Workspace, names: string[]): Promise<void> {
  if (names.length === 0) return;
  const uploads = await workspace.openDirectory([UPLOADS_DIR], UPLOADS_DIR).catch(() => undefined);
  if (!uploads) return;
  try {
    await Promise.all(names.map((name) => removeTree(entryPath(uploads, name).toString())));
  } finally {
    await uploads.close();
  }
}

/**
 * Moves staged files into `<workspace>/uploads/` under sanitised, collision-free names and extracts ZIP
 * archives into `uploads/<archive name>/`, all through the workspace's descriptors. What is placed counts
 * against the workspace's budget (inflated archives included). All or nothing: on any refusal it removes
 * what it placed and throws UploadError. Staged files are always deleted.
 */
export async function placeUploads(
  workspaceDir: string,
  files: StagedFile[],
  options: { limits?: ZipLimits; budget?: WorkspaceBudget } = {},
): Promise<AttachedFile[]> {
  const limits = options.limits ?? DEFAULT_PLACE_UPLOADS_LIMITS;
  const placed: string[] = [];
  const attached: AttachedFile[] = [];
  try {
    // What an archive may still inflate to: re-measured before each one, counting the plain files not yet
    // placed, so several archives together cannot go past the budget either.
    const archiveLimitsFor = async (pending: StagedFile[]): Promise<ZipLimits> => {
      if (!options.budget) return limits;
      const plain = pending.filter((file) => !isZip(sanitizeFileName(file.name)));
      const free = await checkWorkspaceBudget(workspaceDir, options.budget, {
        bytes: plain.reduce((sum, file) => sum + file.size, 0),
        entries: pending.length,
      }).catch((error: unknown) => {
        if (error instanceof WorkspaceAccessError) throw new UploadError(`The files do not fit in the task's workspace. ${error.message}`, 'PAYLOAD_TOO_LARGE', 413);
        throw error;
      });
      return { maxArchiveBytes: Math.min(limits.maxArchiveBytes, free.bytes), maxArchiveEntries: Math.min(limits.maxArchiveEntries, free.entries) };
    };
    await archiveLimitsFor(files);
    await withWorkspace(workspaceDir, async (workspace) => {
      for (const [index, file] of files.entries()) {
        const name = sanitizeFileName(file.name);
        const uploads = await workspace.openDirectory([UPLOADS_DIR], UPLOADS_DIR, { create: true });
        const finalName = await freeName(uploads, isZip(name) ? sanitizeFileName(name.slice(0, -4)) : name).finally(() => uploads.close());
        if (isZip(name)) {
          await (await workspace.openDirectory([UPLOADS_DIR, finalName], name, { create: true })).close();
          placed.push(finalName);
          const archiveLimits = await archiveLimitsFor(files.slice(index + 1));
          for (const relative of await extractZip(file.path, workspace, [UPLOADS_DIR, finalName], name, archiveLimits)) {
            attached.push({ name: path.posix.basename(relative), path: `${UPLOADS_DIR}/${finalName}/${relative}` });
          }
        } else {
          await placeFile(workspace, file, finalName);
          placed.push(finalName);
          attached.push({ name: finalName, path: `${UPLOADS_DIR}/${finalName}` });
        }
      }
    }).catch(async (error: unknown) => {
      await withWorkspace(workspaceDir, (workspace) => removePlaced(workspace, placed)).catch(() => undefined);
      throw error;
    });
    return attached;
  } catch (error) {
    if (error instanceof UploadError) throw error;
    if (error instanceof WorkspaceAccessError) {
      // The sandbox can replace uploads/ with a link or a file; we never follow it.
      throw new UploadError(`The workspace's ${UPLOADS_DIR}/ is not a folder (${error.message}); remove it and upload again`, 'VALIDATION_ERROR', 400);
    }
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
