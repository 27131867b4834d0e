import fs from 'node:fs/promises';
import { withWorkspace, type WorkspaceOwner } from './open-workspace.ts';

/** The folders every workspace starts with: what the user sent, and what the agent hands back. */
export const WORKSPACE_FOLDERS = ['uploads', 'downloads'] as const;

/**
 * Makes a task workspace with `uploads/` and `downloads/`. With an `owner` (the sandbox's host user) the
 * root is theirs, so commands can write in it and everything the server later creates there is theirs too.
 */
export async function createWorkspace(dir: string, owner?: WorkspaceOwner): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o755 });
  if (owner) await fs.lchown(dir, owner.uid, owner.gid);
  await withWorkspace(dir, async (workspace) => {
    for (const folder of WORKSPACE_FOLDERS) await (await workspace.openDirectory([folder], folder, { create: true })).close();
  });
}
