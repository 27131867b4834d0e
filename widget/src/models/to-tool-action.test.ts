import { describe, expect, it } from 'vitest';
import { createTranslator } from '../i18n/translate.ts';
import { toToolAction } from './to-tool-action.ts';

const t = createTranslator('en');

describe('toToolAction', () => {
  it('says what a built-in tool will do and shows its command or path verbatim', () => {
    expect(toToolAction({ toolName: 'run_shell_command', args: { command: 'date -u' } }, t)).toEqual({ title: 'Run a command', subject: 'date -u' });
    expect(toToolAction({ toolName: 'read_file', args: { path: 'uploads/a.txt' } }, t)).toEqual({ title: 'Read a file', subject: 'uploads/a.txt' });
    expect(toToolAction({ toolName: 'list_directory', args: {} }, t)).toEqual({ title: 'List a folder', subject: '.' });
    expect(toToolAction({ toolName: 'write_file', args: { path: 'downloads/r.md', content: '# Report' } }, t)).toEqual({
      title: 'Write a file',
      subject: 'downloads/r.md',
      details: '# Report',
    });
  });

  it('names an MCP tool by server and words, with its arguments pretty-printed', () => {
    expect(toToolAction({ toolName: 'crm__lookup_customer', args: { email: 'a@b.c' } }, t)).toEqual({
      title: 'Use crm: lookup customer',
      details: '{\n  "email": "a@b.c"\n}',
    });
    expect(toToolAction({ toolName: 'weather', args: {} }, t)).toEqual({ title: 'Use weather' });
  });

  it('speaks German when the widget does', () => {
    expect(toToolAction({ toolName: 'run_shell_command', args: { command: 'ls' } }, createTranslator('de')).title).toBe('Einen Befehl ausführen');
  });
});
