import { describe, expect, it } from 'vitest';
import { decideToolGate } from './tool-policy.ts';

describe('decideToolGate', () => {
  const gate = (toolName: string, autoExecute: boolean, grants: string[] = []) =>
    decideToolGate({ toolName, autoExecute, grants, policies: { write_file: 'allow', run_shell_command: 'ask', delete_file: 'deny' } });

  it('runs tools without a policy when autoExecute is on', () => expect(gate('read_file', true)).toBe('run'));
  it('asks for every tool when autoExecute is off', () => {
    expect(gate('read_file', false)).toBe('ask');
    expect(gate('write_file', false)).toBe('ask');
  });
  it('asks for "ask" tools even with autoExecute on', () => expect(gate('run_shell_command', true)).toBe('ask'));
  it('denies "deny" tools even when granted', () => expect(gate('delete_file', true, ['delete_file'])).toBe('deny'));
  it('runs a tool granted with proceed_always', () => {
    expect(gate('run_shell_command', true, ['run_shell_command'])).toBe('run');
    expect(gate('read_file', false, ['read_file'])).toBe('run');
  });
});
