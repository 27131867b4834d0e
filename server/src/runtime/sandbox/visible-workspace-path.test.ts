import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { visibleWorkspacePath } from './visible-workspace-path.ts';

const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'visible-')));
const workspaces = path.join(dir, 'workspaces');
fs.mkdirSync(workspaces);

describe('visibleWorkspacePath', () => {
  it('is the full path when the data dir shares the root file system', () => {
    const mountinfo = '22 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n';
    expect(visibleWorkspacePath(workspaces, mountinfo)).toBe(workspaces);
  });

  it('is /workspaces when the data dir is a file system of its own', () => {
    const mountinfo = `22 1 254:0 / / rw - ext4 /dev/vda rw\n40 22 254:16 / ${dir} rw - ext4 /dev/vdb rw\n`;
    expect(visibleWorkspacePath(workspaces, mountinfo)).toBe('/workspaces');
  });

  it('shows the source path of a bind-mounted data dir, escapes decoded', () => {
    const mountinfo = `22 1 254:0 / / rw - ext4 /dev/vda rw\n41 22 254:0 /srv/my\\040data ${dir} rw - ext4 /dev/vda rw\n`;
    expect(visibleWorkspacePath(workspaces, mountinfo)).toBe('/srv/my data/workspaces');
  });
});
