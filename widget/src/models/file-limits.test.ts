import { MAX_FILE_BYTES, MAX_FILES } from '@concierge/shared';
import { describe, expect, it } from 'vitest';
import { createTranslator } from '../i18n/translate.ts';
import { checkFiles } from './file-limits.ts';

const t = createTranslator('en');
const fileOfSize = (name: string, size: number) => {
  const file = new File(['x'], name);
  Object.defineProperty(file, 'size', { value: size });
  return file;
};

describe('checkFiles', () => {
  it('accepts files within the limits', () => {
    const result = checkFiles([], [fileOfSize('a.txt', 10)], t);
    expect(result.files).toHaveLength(1);
    expect(result.error).toBeNull();
  });

  it('rejects a file over the size limit with its name in the message', () => {
    const result = checkFiles([], [fileOfSize('big.zip', MAX_FILE_BYTES + 1), fileOfSize('ok.txt', 1)], t);
    expect(result.files.map((file) => file.name)).toEqual(['ok.txt']);
    expect(result.error).toBe('“big.zip” is larger than 50 MB.');
  });

  it('stops at the maximum number of files', () => {
    const current = Array.from({ length: MAX_FILES }, (_, i) => fileOfSize(`${i}.txt`, 1));
    const result = checkFiles(current, [fileOfSize('one-more.txt', 1)], t);
    expect(result.files).toHaveLength(MAX_FILES);
    expect(result.error).toBe(`You can attach at most ${MAX_FILES} files.`);
  });

  it('speaks German when asked', () => {
    expect(checkFiles([], [fileOfSize('g.bin', MAX_FILE_BYTES + 1)], createTranslator('de-AT')).error).toBe(
      '„g.bin“ ist größer als 50 MB.',
    );
  });
});
