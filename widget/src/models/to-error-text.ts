import { ApiError } from '../api/api-error.ts';
import type { Translate } from '../i18n/translate.ts';

/**
 * What a visitor reads for a failed request: the server's own message when it sent one it means for
 * people, a plain sentence for no connection or a server in trouble, never a status code.
 */
export function toErrorText(error: unknown, t: Translate): string {
  if (error instanceof ApiError) {
    if (error.code === 'NETWORK_ERROR' || error.status === 0) return t('errorNetwork');
    if (error.status >= 500 || error.code === 'INTERNAL_ERROR') return t('errorServer');
    return error.message;
  }
  if (error instanceof TypeError) return t('errorNetwork');
  return error instanceof Error && error.message ? error.message : t('errorServer');
}
