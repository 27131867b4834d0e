import { constants, type Stats } from 'node:fs';
import fs, { type FileHandle } from 'node:fs/promises';
import { WorkspaceAccessError } from './workspace-access-error.ts';

// Node has no openat(2). Opening `/proc/self/fd/<dir>/<name>` is the same thing: the kernel jumps to the
// directory the descriptor holds and looks up `name` there, so nothing above it is resolved again, and
// O_NOFOLLOW refuses a link in `name`. Walking one segment at a time from the root's descriptor means no
// link anywhere in the path is ever followed, however the sandbox swaps entries while we walk.
const PROC_FD = '/proc/self/fd';
const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK, O_DIRECTORY, O_NOCTTY } = constants;
// O_NONBLOCK: opening a FIFO never waits for a writer; O_NOCTTY: a tty never becomes ours.
const DIRECTORY_FLAGS = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK;
const READ_FLAGS = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY;
const WRITE_FLAGS = O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY;
// `/proc/self/fd/N` itself is a link to what N holds: reopening it must follow that one link.
const REOPEN_FLAGS = O_RDONLY | O_DIRECTORY | O_NONBLOCK;

/** The owner of new files and folders: whoever owns the workspace root (the sandbox's host user). */
export interface WorkspaceOwner {
  uid: number;
  gid: number;
}

/** One entry of a directory read by descriptor; `name` is the raw bytes (names need not be UTF-8). */
export interface WorkspaceEntry {
  name: Buffer;
  stat: Stats;
}

/** A path that resolves `name` inside the open directory `dir` and nothing above it. */
export function entryPath(dir: FileHandle, name?: Buffer | string): Buffer {
  const base = `${PROC_FD}/${dir.fd}`;
  if (name === undefined) return Buffer.from(base);
  return Buffer.concat([Buffer.from(`${base}/`), typeof name === 'string' ? Buffer.from(name) : name]);
}

/** Shows a raw name as text: invalid UTF-8 becomes U+FFFD, so odd names can be listed but never crash. */
export function displayName(name: Buffer): string {
  return name.toString('utf8');
}

function describe(error: unknown, shown: string): Error {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new WorkspaceAccessError('missing', `"${shown}" does not exist.`);
  if (code === 'ELOOP') return new WorkspaceAccessError('link', `"${shown}" goes through a symbolic link, which file tools do not follow.`);
  if (code === 'ENOTDIR') return new WorkspaceAccessError('not_directory', `"${shown}" goes through something that is not a folder.`);
  if (code === 'ENXIO' || code === 'EOPNOTSUPP') return new WorkspaceAccessError('not_regular', `"${shown}" is not a regular file (a FIFO, socket or device).`);
  if (code === 'EEXIST') return new WorkspaceAccessError('exists', `"${shown}" already exists.`);
  if (code === 'ENAMETOOLONG') return new WorkspaceAccessError('invalid', `"${shown}" has a name that is too long.`);
  return error as Error;
}

async function closeQuietly(handle: FileHandle | undefined): Promise<void> {
  await handle?.close().catch(() => undefined);
}

/**
 * A task workspace opened by descriptor. Every path is walked segment by segment from the root's
 * descriptor, never following a link, and every object opened is checked to be inside the root.
 * `close()` releases the root; handles it returns are the caller's to close.
 */
export interface Workspace {
  readonly root: FileHandle;
  readonly owner: WorkspaceOwner;
  /** Opens the directory at `segments` (the root for none), creating missing folders when asked. */
  openDirectory(segments: string[], shown: string, options?: { create?: boolean }): Promise<FileHandle>;
  /** Opens a regular file for reading; a FIFO, socket, device or folder is refused. */
  openFile(segments: string[], shown: string): Promise<{ handle: FileHandle; stat: Stats }>;
  /** Opens (creating, or with `exclusive` only creating) a regular file for writing, truncated. */
  createFile(segments: string[], shown: string, options?: { exclusive?: boolean; mode?: number }): Promise<FileHandle>;
  /** Reads a directory's entries by descriptor; entries that vanish while read are left out. */
  readDirectory(dir: FileHandle): Promise<WorkspaceEntry[]>;
  close(): Promise<void>;
}

/** Opens the workspace at `rootPath` (a path the server made; its last segment must not be a link). */
export async function openWorkspace(rootPath: string): Promise<Workspace> {
  const root = await fs.open(rootPath, DIRECTORY_FLAGS).catch((error: unknown) => {
    throw describe(error, rootPath);
  });
  let realRoot: string;
  let owner: WorkspaceOwner;
  try {
    realRoot = await fs.readlink(entryPath(root).toString());
    const stat = await root.stat();
    owner = { uid: stat.uid, gid: stat.gid };
  } catch (error) {
    await closeQuietly(root);
    throw error;
  }
  const chownNeeded = process.getuid?.() === 0;

  // Belt and braces: the walk cannot leave the root, and the kernel's own name for what we opened agrees.
  const assertInside = async (handle: FileHandle, shown: string) => {
    const real = await fs.readlink(entryPath(handle).toString());
    if (real !== realRoot && !real.startsWith(`${realRoot}/`)) throw new WorkspaceAccessError('outside', `"${shown}" is outside the workspace.`);
  };

  const adopt = async (handle: FileHandle) => {
    if (chownNeeded) await handle.chown(owner.uid, owner.gid);
  };

  const child = async (parent: FileHandle, name: string, shown: string, create: boolean): Promise<FileHandle> => {
    try {
      return await fs.open(entryPath(parent, name), DIRECTORY_FLAGS);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // O_DIRECTORY | O_NOFOLLOW answers ENOTDIR for a link too; name the link, it is what the user made.
      if (code === 'ENOTDIR' && (await fs.lstat(entryPath(parent, name)).catch(() => undefined))?.isSymbolicLink()) throw describe({ code: 'ELOOP' }, shown);
      if (!create || code !== 'ENOENT') throw describe(error, shown);
    }
    // mkdir never follows a link in its last segment (EEXIST), and the open after it refuses one.
    await fs.mkdir(entryPath(parent, name), 0o755).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw describe(error, shown);
    });
    const made = await fs.open(entryPath(parent, name), DIRECTORY_FLAGS).catch((error: unknown) => {
      throw describe(error, shown);
    });
    await adopt(made).catch(async (error: unknown) => {
      await closeQuietly(made);
      throw error;
    });
    return made;
  };

  const openDirectory: Workspace['openDirectory'] = async (segments, shown, options = {}) => {
    let current = await fs.open(entryPath(root), REOPEN_FLAGS);
    try {
      for (const segment of segments) {
        const next = await child(current, segment, shown, options.create === true);
        await closeQuietly(current);
        current = next;
      }
      await assertInside(current, shown);
      return current;
    } catch (error) {
      await closeQuietly(current);
      throw error;
    }
  };

  const splitLast = (segments: string[], shown: string): [string[], string] => {
    const name = segments.at(-1);
    if (name === undefined) throw new WorkspaceAccessError('not_regular', `"${shown}" is a folder, not a file.`);
    return [segments.slice(0, -1), name];
  };

  const openFile: Workspace['openFile'] = async (segments, shown) => {
    const [parents, name] = splitLast(segments, shown);
    const dir = await openDirectory(parents, shown);
    let handle: FileHandle | undefined;
    try {
      handle = await fs.open(entryPath(dir, name), READ_FLAGS).catch((error: unknown) => {
        throw describe(error, shown);
      });
      const stat = await handle.stat();
      if (stat.isDirectory()) throw new WorkspaceAccessError('not_regular', `"${shown}" is a folder, not a file.`);
      if (!stat.isFile()) throw new WorkspaceAccessError('not_regular', `"${shown}" is not a regular file (a FIFO, socket or device); it cannot be read.`);
      await assertInside(handle, shown);
      return { handle, stat };
    } catch (error) {
      await closeQuietly(handle);
      throw error;
    } finally {
      await closeQuietly(dir);
    }
  };

  const createFile: Workspace['createFile'] = async (segments, shown, options = {}) => {
    const [parents, name] = splitLast(segments, shown);
    const dir = await openDirectory(parents, shown, { create: true });
    let handle: FileHandle | undefined;
    try {
      const flags = WRITE_FLAGS | O_CREAT | (options.exclusive ? O_EXCL : 0);
      handle = await fs.open(entryPath(dir, name), flags, options.mode ?? 0o644).catch((error: unknown) => {
        throw describe(error, shown);
      });
      // Truncate only once we know it is a regular file of ours (O_TRUNC would act before any check).
      const stat = await handle.stat();
      if (!stat.isFile()) throw new WorkspaceAccessError('not_regular', `"${shown}" is not a regular file; it cannot be written.`);
      await assertInside(handle, shown);
      await handle.truncate(0);
      await adopt(handle);
      return handle;
    } catch (error) {
      await closeQuietly(handle);
      throw error;
    } finally {
      await closeQuietly(dir);
    }
  };

  const readDirectory: Workspace['readDirectory'] = async (dir) => {
    const names = await fs.readdir(entryPath(dir).toString(), { encoding: 'buffer' });
    const entries: WorkspaceEntry[] = [];
    for (const name of names) {
      const stat = await fs.lstat(entryPath(dir, name)).catch(() => undefined);
      if (stat) entries.push({ name, stat });
    }
    return entries;
  };

  return { root, owner, openDirectory, openFile, createFile, readDirectory, close: () => closeQuietly(root) };
}

/** Opens the workspace, runs `work`, and always closes it. */
export async function withWorkspace<T>(rootPath: string, work: (workspace: Workspace) => Promise<T>): Promise<T> {
  const workspace = await openWorkspace(rootPath);
  try {
    return await work(workspace);
  } finally {
    await workspace.close();
  }
}
