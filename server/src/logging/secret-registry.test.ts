import { describe, expect, it } from 'vitest';
import { isRegistrableSecret, SecretRegistry } from './secret-registry.ts';

describe('SecretRegistry', () => {
  it('redacts a registered token and its base64 and hex forms, and forgets it once unregistered', () => {
    const registry = new SecretRegistry();
    const token = 'tok_9fK2mQ7xZ1';
    const unregister = registry.add([token]);
    expect(isRegistrableSecret(token)).toBe(true);
    const base64 = Buffer.from(token).toString('base64');
    const hex = Buffer.from(token).toString('hex');
    expect(registry.redact(`a ${token} b ${base64} c ${hex}`)).toBe('a [REDACTED] b [REDACTED] c [REDACTED]');
    unregister();
    unregister();
    expect(registry.redact(`a ${token}`)).toBe(`a ${token}`);
    expect(registry.isEmpty).toBe(true);
  });

  it('keeps a value registered by two tasks until both have unregistered it', () => {
    const registry = new SecretRegistry();
    const first = registry.add(['shared-secret-1']);
    const second = registry.add(['shared-secret-1']);
    first();
    expect(registry.redact('x shared-secret-1')).toBe('x [REDACTED]');
    second();
    expect(registry.redact('x shared-secret-1')).toBe('x shared-secret-1');
  });

  it('replaces the longest form when one registered value contains another', () => {
    const registry = new SecretRegistry();
    registry.add(['abcdefg1', 'abcdefg1-longer']);
    expect(registry.redact('[abcdefg1-longer]')).toBe('[[REDACTED]]');
  });

  it('ignores short words and phrases a visitor could register to shred everyone\'s logs', () => {
    const registry = new SecretRegistry();
    const words = ['info', 'task', 'not found', 'NOT_FOUND', 'task completed', 'required', 'non-empty', 'Unsupported'];
    registry.add(words);
    for (const word of words) expect(isRegistrableSecret(word)).toBe(false);
    expect(isRegistrableSecret('sk-live-9fK2mQ7x')).toBe(true);
    const message = '"message" is required and must be a non-empty string; Unsupported Content-Type; Task 42 not found: task completed, level info';
    expect(registry.redact(message)).toBe(message);
  });

  it('adds thousands of large secrets without building anything over all of them', () => {
    const registry = new SecretRegistry();
    const unregisters = Array.from({ length: 2000 }, (_, index) => registry.add([`secret-${index}-${'x'.repeat(4000)}`]));
    expect(registry.redact(`value secret-1999-${'x'.repeat(4000)} end`)).toBe('value [REDACTED] end');
    for (const unregister of unregisters) unregister();
    expect(registry.isEmpty).toBe(true);
  });
});
