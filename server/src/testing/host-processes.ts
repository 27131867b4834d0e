import { readdirSync, readFileSync } from 'node:fs';

/** Host processes whose command line contains `marker` (to prove nothing outlived a command). */
export function hostProcessesMatching(marker: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (cmdline.includes(marker)) found.push(`${pid}: ${cmdline}`);
    } catch {
      // The process exited while we looked.
    }
  }
  return found;
}
