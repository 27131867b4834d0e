import yazl from 'yazl';

/** One archive entry; `mode` 0o120777 makes a symbolic link whose target is `data`. */
export type ZipEntry = { name: string; data?: Buffer; mode?: number; directory?: boolean };

/** Builds a ZIP archive in memory (entries without data hold their own name). */
export function buildZip(entries: ZipEntry[], compress = true): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const entry of entries) {
    if (entry.directory) zip.addEmptyDirectory(entry.name);
    else zip.addBuffer(entry.data ?? Buffer.from(`contents of ${entry.name}`), entry.name, { mode: entry.mode, compress });
  }
  zip.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on('data', (chunk: Buffer) => chunks.push(chunk));
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    zip.outputStream.on('error', reject);
  });
}

/** yazl refuses unsafe entry names, so hostile archives get a safe name of the same length rewritten. */
export function renameZipEntry(zip: Buffer, from: string, to: string): Buffer {
  if (from.length !== to.length) throw new Error('renameZipEntry needs names of the same length');
  return Buffer.from(zip.toString('latin1').replaceAll(from, to), 'latin1');
}

/** Rewrites the central directory's uncompressed sizes so the headers understate what entries inflate to. */
export function lieAboutZipSizes(zip: Buffer, size: number): Buffer {
  const copy = Buffer.from(zip);
  for (let offset = copy.indexOf(0x50); offset !== -1; offset = copy.indexOf(0x50, offset + 1)) {
    if (offset + 28 <= copy.length && copy.readUInt32LE(offset) === 0x02014b50) copy.writeUInt32LE(size, offset + 24);
  }
  return copy;
}
