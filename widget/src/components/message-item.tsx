import type { ApprovalOutcome } from '@concierge/shared';
import { Component } from 'preact';
import type { Translate } from '../i18n/translate.ts';
import type { ChatMessage } from '../models/conversation-reducer.ts';
import { renderMarkdown } from './markdown.tsx';
import { ToolCallCard } from './tool-call-card.tsx';

export interface MessageItemProps {
  message: ChatMessage;
  decisions: Record<string, ApprovalOutcome>;
  t: Translate;
  onApprove(callId: string, outcome: ApprovalOutcome): void;
}

/**
 * One turn. A class so it can skip re-rendering when its message object is unchanged: while a
 * reply streams only the last message re-renders, which keeps long conversations fast.
 */
export class MessageItem extends Component<MessageItemProps> {
  private markdownSource = '';
  private markdown: ReturnType<typeof renderMarkdown> = [];

  override shouldComponentUpdate(next: MessageItemProps): boolean {
    const { message, decisions, t } = this.props;
    if (next.message !== message || next.t !== t) return true;
    return next.decisions !== decisions && (next.message.toolCalls?.length ?? 0) > 0;
  }

  override render({ message, decisions, t, onApprove }: MessageItemProps) {
    if (message.role === 'user') {
      return (
        <div class="cc-message cc-user">
          <span class="cc-sr-only">{t('you')}: </span>
          <div class="cc-bubble cc-plain">{message.content}</div>
          {message.attachedFiles && (
            <ul class="cc-files" aria-label={t('attachedFiles')}>
              {message.attachedFiles.map((file) => (
                <li key={file.path}>{file.name}</li>
              ))}
            </ul>
          )}
        </div>
      );
    }
    const thoughts = message.thoughts ?? [];
    const interrupted = message.interrupted;
    if (message.content !== this.markdownSource) {
      this.markdownSource = message.content;
      this.markdown = renderMarkdown(message.content);
    }
    return (
      <div class="cc-message cc-assistant">
        <span class="cc-sr-only">{t('assistant')}: </span>
        {thoughts.length > 0 && (
          <details class="cc-thoughts">
            <summary>
              {t('thoughts')} ({thoughts.length})
            </summary>
            <ul>
              {thoughts.map((thought, index) => (
                <li key={index}>
                  {thought.subject && <strong>{thought.subject}</strong>} {thought.description}
                </li>
              ))}
            </ul>
          </details>
        )}
        {(message.toolCalls ?? []).map((call) => (
          <ToolCallCard key={call.callId} call={call} decision={decisions[call.callId]} t={t} onApprove={onApprove} />
        ))}
        {message.content && <div class="cc-bubble cc-markdown">{this.markdown}</div>}
        {interrupted && (
          <p class={`cc-status cc-interrupted${interrupted.reason === 'failed' ? ' cc-error' : ''}`}>
            {interrupted.reason === 'failed' ? t('failed', { message: interrupted.message }) : t('cancelled')}
          </p>
        )}
      </div>
    );
  }
}
