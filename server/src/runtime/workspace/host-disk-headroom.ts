import fs from 'node:fs/promises';

/** What a visitor is told when the host's disk, not their workspace's quota, is what is full. */
export const HOST_DISK_FULL_MESSAGE = 'The server is running out of disk space; delete files before writing more, or try again later.';

/**
 * Bytes that workspaces may still write on the file system holding `dir` while `reserveBytes` stay free
 * for the database and logs (negative when already past it); Infinity when nothing is reserved. Each
 * workspace's quota alone does not protect the host: many tasks at their quota can fill any disk.
 */
export async function hostDiskHeadroom(dir: string, reserveBytes: number): Promise<number> {
  if (reserveBytes <= 0) return Number.POSITIVE_INFINITY;
  const disk = await fs.statfs(dir);
  return disk.bavail * disk.bsize - reserveBytes;
}
