import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildZip as zipBuffer, lieAboutZipSizes as lieAboutSizes, renameZipEntry as renameEntry } from '../../testing/build-zip.ts';
import { DEFAULT_PLACE_UPLOADS_LIMITS, formatAttachedFilesNote, placeUploads } from './place-uploads.ts';
import type { StagedFile } from './receive-multipart.ts';
import { UploadError } from './upload-error.ts';

describe('placeUploads', () => {
  let root: string;
  let workspaceDir: string;
  let stagingDir: string;
  let counter = 0;

  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'place-test-'));
    workspaceDir = path.join(root, 'workspace');
    stagingDir = path.join(root, 'staging', 'upload-x');
    mkdirSync(workspaceDir);
    mkdirSync(stagingDir, { recursive: true });
  });

  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const stage = (name: string, data: Buffer | string): StagedFile => {
    const file = path.join(stagingDir, String(counter++));
    // A refused upload removes its staging folder: later uploads of the same test stage anew.
    mkdirSync(stagingDir, { recursive: true });
    writeFileSync(file, data);
    return { name, path: file, size: statSync(file).size, mimeType: 'application/octet-stream' };
  };
  const uploads = (...parts: string[]) => path.join(workspaceDir, 'uploads', ...parts);
  const listTree = (dir: string): string[] =>
    existsSync(dir) ? readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort() : [];
  const expectRefused = async (promise: Promise<unknown>, message: RegExp) => {
    const error = await promise.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UploadError);
    expect(error).toMatchObject({ code: 'VALIDATION_ERROR', status: 400 });
    expect((error as Error).message).toMatch(message);
  };

  it('moves files into uploads/ and returns their workspace paths', async () => {
    const attached = await placeUploads(workspaceDir, [stage('a.csv', 'x,y'), stage('notes.txt', 'hi')]);
    expect(attached).toEqual([
      { name: 'a.csv', path: 'uploads/a.csv' },
      { name: 'notes.txt', path: 'uploads/notes.txt' },
    ]);
    expect(readFileSync(uploads('a.csv'), 'utf8')).toBe('x,y');
    expect(readdirSync(path.dirname(stagingDir))).toEqual([]);
  });

  it('keeps traversal names inside uploads/ when the client sends ../../x', async () => {
    const attached = await placeUploads(workspaceDir, [stage('../../x', 'one'), stage('..\\..\\y', 'two'), stage('/etc/passwd', 'three')]);
    expect(attached.map((file) => file.path)).toEqual(['uploads/x', 'uploads/y', 'uploads/passwd']);
    expect(readdirSync(root).sort()).toEqual(['staging', 'workspace']);
    expect(existsSync(path.join(root, 'x'))).toBe(false);
  });

  it('renames hidden files and empty names instead of writing dotfiles', async () => {
    const attached = await placeUploads(workspaceDir, [stage('.bashrc', 'evil'), stage('', 'anon')]);
    expect(attached.map((file) => file.name)).toEqual(['_bashrc', 'file']);
  });

  it('adds (1), (2) on collisions rather than overwriting', async () => {
    mkdirSync(uploads(), { recursive: true });
    writeFileSync(uploads('report.csv'), 'original');
    const attached = await placeUploads(workspaceDir, [stage('report.csv', 'second'), stage('report.csv', 'third')]);
    expect(attached.map((file) => file.path)).toEqual(['uploads/report (1).csv', 'uploads/report (2).csv']);
    expect(readFileSync(uploads('report.csv'), 'utf8')).toBe('original');
  });

  it('never writes through a link the sandbox planted under a free-looking name', async () => {
    mkdirSync(uploads(), { recursive: true });
    const outside = path.join(root, 'outside.txt');
    symlinkSync(outside, uploads('data.txt'));
    const attached = await placeUploads(workspaceDir, [stage('data.txt', 'payload')]);
    expect(attached[0]?.path).toBe('uploads/data (1).txt');
    expect(existsSync(outside)).toBe(false);
  });

  it('refuses when uploads/ itself is a link out of the workspace', async () => {
    const elsewhere = path.join(root, 'elsewhere');
    mkdirSync(elsewhere);
    symlinkSync(elsewhere, uploads());
    await expectRefused(placeUploads(workspaceDir, [stage('a.txt', 'x')]), /uploads\/ is not a folder/);
    expect(readdirSync(elsewhere)).toEqual([]);
  });

  it('extracts a ZIP into uploads/<name>/ keeping folders', async () => {
    const zip = await zipBuffer([
      { name: 'data/2024/q1.csv', data: Buffer.from('q1') },
      { name: 'readme.md' },
      { name: 'empty/', directory: true },
      { name: '.env', data: Buffer.from('hidden') },
    ]);
    const attached = await placeUploads(workspaceDir, [stage('Project.zip', zip)]);
    expect(attached).toEqual([
      { name: 'q1.csv', path: 'uploads/Project/data/2024/q1.csv' },
      { name: 'readme.md', path: 'uploads/Project/readme.md' },
      { name: '_env', path: 'uploads/Project/_env' },
    ]);
    expect(readFileSync(uploads('Project', 'data', '2024', 'q1.csv'), 'utf8')).toBe('q1');
    expect(statSync(uploads('Project', 'empty')).isDirectory()).toBe(true);
  });

  it('refuses a zip-slip archive and leaves nothing of it behind', async () => {
    const safe = await zipBuffer([{ name: 'ok.txt' }, { name: 'aaaaaevil.txt', data: Buffer.from('pwned') }]);
    const slip = renameEntry(safe, 'aaaaaevil.txt', '../../evil.tx');
    await expectRefused(placeUploads(workspaceDir, [stage('first.txt', 'kept?'), stage('slip.zip', slip)]), /slip\.zip.*(outside|invalid relative path)/);
    expect(listTree(uploads())).toEqual([]);
    expect(listTree(root).filter((entry) => entry.includes('evil'))).toEqual([]);
    expect(readdirSync(path.dirname(stagingDir))).toEqual([]);
  });

  it('refuses an archive with an absolute path entry', async () => {
    const safe = await zipBuffer([{ name: 'xetc/passwd' }]);
    const absolute = renameEntry(safe, 'xetc/passwd', '/etc/passwd');
    await expectRefused(placeUploads(workspaceDir, [stage('abs.zip', absolute)]), /abs\.zip/);
    expect(listTree(uploads())).toEqual([]);
  });

  it('refuses a symlink inside a zip', async () => {
    const zip = await zipBuffer([{ name: 'fine.txt' }, { name: 'link', data: Buffer.from('/etc/shadow'), mode: 0o120777 }]);
    await expectRefused(placeUploads(workspaceDir, [stage('links.zip', zip)]), /symbolic link \("link"\)/);
    expect(listTree(uploads())).toEqual([]);
  });

  it('refuses a zip bomb by the bytes it inflates to', async () => {
    const bomb = await zipBuffer([{ name: 'zeros.bin', data: Buffer.alloc(DEFAULT_PLACE_UPLOADS_LIMITS.maxArchiveBytes + 1024 * 1024) }]);
    expect(bomb.length).toBeLessThan(1024 * 1024);
    await expectRefused(placeUploads(workspaceDir, [stage('bomb.zip', bomb)]), /expands to more than 200 MB/);
    expect(listTree(uploads())).toEqual([]);
  }, 30_000);

  it('refuses a zip bomb whose headers lie about its size', async () => {
    const bomb = lieAboutSizes(await zipBuffer([{ name: 'zeros.bin', data: Buffer.alloc(8 * 1024 * 1024) }]), 100);
    await expectRefused(placeUploads(workspaceDir, [stage('liar.zip', bomb)], { limits: { maxArchiveBytes: 4 * 1024 * 1024, maxArchiveEntries: 10 } }), /liar\.zip.*(expands to more than 4 MB|too many bytes)/);
    expect(listTree(uploads())).toEqual([]);
  });

  it('refuses an archive with more than 1000 entries', async () => {
    const zip = await zipBuffer(Array.from({ length: 1001 }, (_, index) => ({ name: `f${index}.txt` })), false);
    await expectRefused(placeUploads(workspaceDir, [stage('many.zip', zip)]), /1001 entries, more than the 1000 allowed/);
    expect(listTree(uploads())).toEqual([]);
  });

  it('counts the folders an archive’s paths imply, so a few deep entries cannot make thousands of folders', async () => {
    // Red team: 10 directory entries 2,000 levels deep made 20,000 folders from an 80 KB upload.
    const deep = (index: number, levels: number) => `e${index}/${Array.from({ length: levels }, () => 'a').join('/')}/`;
    await expectRefused(placeUploads(workspaceDir, [stage('deep.zip', await zipBuffer([{ name: deep(0, 40), directory: true }]))]), /nests more than 32 folders deep/);
    const wide = Array.from({ length: 40 }, (_, index) => ({ name: deep(index, 30), directory: true }));
    await expectRefused(placeUploads(workspaceDir, [stage('wide.zip', await zipBuffer(wide))]), /more than 1000 files and folders/);
    const long = `${'b'.repeat(200)}/${'c'.repeat(200)}/${'d'.repeat(200)}/${'e'.repeat(200)}/${'f'.repeat(200)}/${'g'.repeat(200)}/x.txt`;
    await expectRefused(placeUploads(workspaceDir, [stage('long.zip', await zipBuffer([{ name: long }]))]), /path longer than 1024 characters/);
    expect(listTree(uploads())).toEqual([]);
  });

  it('refuses a .zip that is not an archive', async () => {
    await expectRefused(placeUploads(workspaceDir, [stage('fake.zip', 'not a zip at all')]), /not a readable ZIP archive/);
  });

  it('counts every archive of one upload against the budget, not each one alone', async () => {
    // Each inflates to 2 MB, under the 3 MB budget by itself; three of them together do not fit.
    const zip = await zipBuffer([{ name: 'zeros.bin', data: Buffer.alloc(2 * 1024 * 1024) }]);
    const budget = { quotaBytes: 3 * 1024 * 1024, maxEntries: 1000 };
    const error = await placeUploads(workspaceDir, [stage('a.zip', zip), stage('b.zip', zip), stage('c.zip', zip)], { budget }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UploadError);
    expect((error as Error).message).toMatch(/b\.zip/);
    expect(listTree(uploads())).toEqual([]);
  });

  it('gives a second archive of the same name its own folder', async () => {
    const zip = await zipBuffer([{ name: 'a.txt' }]);
    const attached = await placeUploads(workspaceDir, [stage('data.zip', zip), stage('data.zip', zip)]);
    expect(attached.map((file) => file.path)).toEqual(['uploads/data/a.txt', 'uploads/data (1)/a.txt']);
  });
});

describe('formatAttachedFilesNote', () => {
  it('lists each file path for the agent', () => {
    expect(formatAttachedFilesNote([{ name: 'a.csv', path: 'uploads/a.csv' }, { name: 'b.txt', path: 'uploads/b.txt' }])).toBe(
      'The user attached these files in the workspace:\n- uploads/a.csv\n- uploads/b.txt',
    );
  });

  it('returns an empty string when nothing was attached', () => {
    expect(formatAttachedFilesNote([])).toBe('');
  });

  it('summarises long lists after 50 files', () => {
    const files = Array.from({ length: 60 }, (_, index) => ({ name: `${index}`, path: `uploads/x/${index}` }));
    const note = formatAttachedFilesNote(files);
    expect(note.split('\n')).toHaveLength(52);
    expect(note).toContain('- … and 10 more under uploads/');
  });
});
