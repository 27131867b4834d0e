import { readFileSync } from 'node:fs';

/** A process's resident memory in bytes, from /proc (what the memory tests bound). */
export function processRssBytes(pid: number | undefined): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}
