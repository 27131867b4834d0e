import { describe, expect, it } from 'vitest';
import { ApiError } from '../api/api-error.ts';
import { createTranslator } from '../i18n/translate.ts';
import { toErrorText } from './to-error-text.ts';

const t = createTranslator('en');

describe('toErrorText', () => {
  it('never shows a status code: a 503 or an unreadable answer reads as a server in trouble', () => {
    expect(toErrorText(new ApiError('INTERNAL_ERROR', 'The chat server sent an unexpected answer.', 503), t)).toBe(t('errorServer'));
    expect(toErrorText(new ApiError('SERVICE_UNAVAILABLE', 'Service Unavailable (HTTP 503)', 503), t)).not.toMatch(/HTTP|503/);
  });

  it('reads a lost connection as one, and keeps the server message meant for people', () => {
    expect(toErrorText(new ApiError('NETWORK_ERROR', 'The chat server could not be reached.'), t)).toBe(t('errorNetwork'));
    expect(toErrorText(new TypeError('Failed to fetch'), t)).toBe(t('errorNetwork'));
    expect(toErrorText(new ApiError('PAYLOAD_TOO_LARGE', 'The files are larger than 50 MB.', 413), t)).toBe('The files are larger than 50 MB.');
  });
});
