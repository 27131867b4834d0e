import { describe, expect, it } from 'vitest';
import { decideScriptedTurn, isDeniedResultText } from './decide-scripted-turn.ts';

function turnFor(lastUserText: string) {
  return decideScriptedTurn({ lastUserText, toolResults: [] });
}

describe('decideScriptedTurn', () => {
  it('reads a path under downloads/ instead of writing the report', () => {
    expect(turnFor('read downloads/report.md')).toMatchObject({ type: 'tool-call', toolName: 'read_file', input: { path: 'downloads/report.md' } });
  });

  it('does not mistake "file" for "fail"', () => {
    expect(turnFor('make a file')).toMatchObject({ type: 'tool-call', toolName: 'write_file' });
  });

  it('prefers the backticked command over other triggers', () => {
    expect(turnFor('run `cat error.log` and list files')).toMatchObject({ input: { command: 'cat error.log' } });
  });

  it('fails on "fail" and "error" as whole words only', () => {
    expect(turnFor('Please FAIL now').type).toBe('fail');
    expect(turnFor('trigger an error').type).toBe('fail');
    expect(turnFor('failover errors').type).toBe('text');
  });

  it('answers with the help text when nothing matches', () => {
    const turn = turnFor('');
    expect(turn.type === 'text' && turn.text).toContain('**fail**');
  });

  it('answers from the last tool result even when the last user message has another trigger', () => {
    const turn = decideScriptedTurn({
      lastUserText: 'list files',
      toolResults: [{ toolName: 'list_directory', input: { path: '.' }, output: '[]', isError: false, isDenied: false }],
    });
    expect(turn).toMatchObject({ type: 'text', text: 'Your workspace is empty.' });
  });
});

describe('isDeniedResultText', () => {
  it.each([
    'The user declined this tool call.',
    'Denied by the project tool policy.',
    'Tool call rejected by the user',
    'Tool call execution denied.',
  ])('recognises "%s"', (text) => {
    expect(isDeniedResultText(text)).toBe(true);
  });

  it('does not treat a shell "Permission denied" as a refusal', () => {
    expect(isDeniedResultText('{"exitCode":1,"stderr":"cat: /root/x: Permission denied"}')).toBe(false);
  });
});
