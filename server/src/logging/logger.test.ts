import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.ts';
import { secretRegistry } from './secret-registry.ts';

describe('createLogger', () => {
  it('redacts live secrets in field values but never the level, message, ids or codes', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'debug', write: (line) => lines.push(line), base: { taskId: 'task-info-12345678' } });
    // A visitor registers the server's own words and ids as "secrets", next to a real token.
    const unregister = secretRegistry.add(['task-info-12345678', 'MODEL_UNAVAILABLE', 'tok_Zx81qPw02mn']);
    try {
      logger.warn({ code: 'MODEL_UNAVAILABLE', detail: 'upstream said tok_Zx81qPw02mn', error: new Error('auth tok_Zx81qPw02mn') }, 'model call failed');
    } finally {
      unregister();
    }
    const record = JSON.parse(lines[0]!);
    expect(record).toMatchObject({ level: 'warn', msg: 'model call failed', taskId: 'task-info-12345678', code: 'MODEL_UNAVAILABLE' });
    expect(record.detail).toBe('upstream said [REDACTED]');
    expect(record.error.message).toBe('auth [REDACTED]');
    expect(lines[0]).not.toContain('tok_Zx81qPw02mn');
  });

  it('drops fields named like credentials whatever they hold', () => {
    const lines: string[] = [];
    createLogger({ write: (line) => lines.push(line) }).info({ authorization: 'Bearer abc', nested: { password: 'p' } }, 'request');
    expect(JSON.parse(lines[0]!)).toMatchObject({ authorization: '[REDACTED]', nested: { password: '[REDACTED]' } });
  });
});
