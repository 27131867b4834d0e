/** The name used when nothing usable is left of the original. */
export const FALLBACK_FILE_NAME = 'file';
const MAX_NAME_BYTES = 200;
// C0/C1 controls, and bidi overrides that can disguise an extension ("invoice\u202Efdp.exe").
const UNSAFE_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

function truncateBytes(name: string): string {
  if (Buffer.byteLength(name) <= MAX_NAME_BYTES) return name;
  const dot = name.lastIndexOf('.');
  const extension = dot > 0 && name.length - dot <= 16 ? name.slice(dot) : '';
  let stem = name.slice(0, name.length - extension.length);
  while (Buffer.byteLength(stem + extension) > MAX_NAME_BYTES) stem = Array.from(stem).slice(0, -1).join('');
  return stem + extension;
}

/**
 * A safe single path segment from a client-supplied file name: basename only (either slash), NFC,
 * no control or bidi characters, no leading dots (so `.bashrc` becomes `_bashrc`), at most 200 bytes,
 * never empty, `.` or `..`.
 */
export function sanitizeFileName(name: string): string {
  const base = name.normalize('NFC').split(/[/\\]/).pop() ?? '';
  let cleaned = base.replace(UNSAFE_CHARACTERS, '').trim();
  cleaned = cleaned.replace(/^\.+/, (dots) => '_'.repeat(dots.length));
  cleaned = truncateBytes(cleaned);
  return cleaned.length > 0 ? cleaned : FALLBACK_FILE_NAME;
}
