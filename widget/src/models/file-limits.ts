import { MAX_FILE_BYTES, MAX_FILES } from '@concierge/shared';
import type { Translate } from '../i18n/translate.ts';

/** Adds files to a selection within the upload limits; rejected ones come back with the reason. */
export function checkFiles(
  current: readonly File[],
  added: readonly File[],
  t: Translate,
): { files: File[]; error: string | null } {
  const files = current.slice();
  let error: string | null = null;
  for (const file of added) {
    if (file.size > MAX_FILE_BYTES) {
      error = t('fileTooLarge', { name: file.name, max: MAX_FILE_BYTES / (1024 * 1024) });
    } else if (files.length >= MAX_FILES) {
      error = t('tooManyFiles', { max: MAX_FILES });
    } else {
      files.push(file);
    }
  }
  return { files, error };
}
