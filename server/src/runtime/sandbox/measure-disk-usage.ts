import { execFile } from 'node:child_process';

const DU_TIMEOUT_MS = 30_000;

/** Bytes of disk a directory tree uses (`du`, one file system, sparse files counted by real blocks). */
export function measureDiskUsage(dir: string): Promise<number> {
  return new Promise((resolve, reject) => {
    execFile('du', ['-s', '-x', '-B1', dir], { timeout: DU_TIMEOUT_MS, env: { PATH: '/usr/bin:/bin' } }, (error, stdout) => {
      const bytes = Number.parseInt(stdout.trim().split(/\s+/)[0] ?? '', 10);
      // du exits 1 when a file vanished mid-walk but still prints a total.
      if (Number.isFinite(bytes)) resolve(bytes);
      else reject(error ?? new Error(`du printed no size for ${dir}`));
    });
  });
}
