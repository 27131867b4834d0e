import { describe, expect, it } from 'vitest';
import { sanitizeFileName } from './sanitize-file-name.ts';

describe('sanitizeFileName', () => {
  it.each([
    ['report.csv', 'report.csv'],
    ['../../x', 'x'],
    ['..\\..\\windows\\evil.txt', 'evil.txt'],
    ['/etc/passwd', 'passwd'],
    ['.bashrc', '_bashrc'],
    ['..', '__'],
    ['.', '_'],
    ['', 'file'],
    ['../', 'file'],
    ['  spaced name.txt  ', 'spaced name.txt'],
    ['bell\u0007\u0000name\n.txt', 'bellname.txt'],
    ['invoice\u202Efdp.exe', 'invoicefdp.exe'],
  ])('turns %j into %j', (input, expected) => {
    expect(sanitizeFileName(input)).toBe(expected);
  });

  it('normalises unicode to NFC when the name arrives decomposed', () => {
    const decomposed = 'Cafe\u0301.txt';
    expect(sanitizeFileName(decomposed)).toBe('Caf\u00e9.txt');
  });

  it('shortens names past 200 bytes and keeps the extension', () => {
    const name = sanitizeFileName(`${'é'.repeat(300)}.pdf`);
    expect(Buffer.byteLength(name)).toBeLessThanOrEqual(200);
    expect(name.endsWith('.pdf')).toBe(true);
  });
});
