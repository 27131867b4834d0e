import type { Translate } from '../i18n/translate.ts';
import { toToolAction } from './to-tool-action.ts';
import type { ConversationState } from './conversation-reducer.ts';
import { toPlainText } from './to-plain-text.ts';

/**
 * What the polite live region says for one transition, in plain text, or null for nothing: a finished
 * reply once (not per token), an approval request, a retry, a stop or a failure.
 */
export function toAnnouncement(previous: ConversationState, next: ConversationState, t: Translate): string | null {
  const before = previous.messages.at(-1);
  const after = next.messages.find((message) => message.id === before?.id);
  if (before?.streaming && after && !after.streaming && after.content) {
    return t('announceMessage', { text: toPlainText(after.content) });
  }
  if (next.retrying && !previous.retrying) return t('retrying');
  if (next.phase === previous.phase) return null;
  if (next.phase === 'awaiting_approval') {
    const call = next.messages.at(-1)?.toolCalls?.find((candidate) => candidate.status === 'awaiting_approval');
    return call ? t('announceApproval', { action: toToolAction(call, t).title }) : null;
  }
  if (next.phase === 'cancelled') return t('cancelled');
  if (next.phase === 'failed' && next.error) return t('failed', { message: next.error.message });
  return null;
}
