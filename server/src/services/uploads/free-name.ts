import fs, { type FileHandle } from 'node:fs/promises';
import { entryPath } from '../../runtime/workspace/open-workspace.ts';

const MAX_ATTEMPTS = 10_000;

async function exists(dir: FileHandle, name: string): Promise<boolean> {
  return fs.lstat(entryPath(dir, name)).then(
    () => true,
    () => false,
  );
}

/** `name (1).ext`, `name (2).ext`, … until the name is free in the open directory `dir`. */
export async function freeName(dir: FileHandle, name: string): Promise<string> {
  if (!(await exists(dir, name))) return name;
  const dot = name.lastIndexOf('.');
  const stem = dot > 0 ? name.slice(0, dot) : name;
  const extension = dot > 0 ? name.slice(dot) : '';
  for (let index = 1; index < MAX_ATTEMPTS; index++) {
    const candidate = `${stem} (${index})${extension}`;
    if (!(await exists(dir, candidate))) return candidate;
  }
  throw new Error(`No free name like "${name}" in the folder`);
}
