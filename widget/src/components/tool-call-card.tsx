import type { ApprovalOutcome, ToolCall } from '@concierge/shared';
import type { Translate } from '../i18n/translate.ts';
import { ScrollablePre } from './scrollable-pre.tsx';

export interface ToolCallCardProps {
  call: ToolCall;
  decision: ApprovalOutcome | undefined;
  t: Translate;
  onApprove(callId: string, outcome: ApprovalOutcome): void;
}

const OUTCOME_LABELS = { proceed_once: 'allowOnce', proceed_always: 'alwaysAllow', cancel: 'deny' } as const;

function formatArgs(args: Record<string, unknown>): string {
  try {
    return JSON.stringify(args, null, 2);
  } catch {
    return String(args);
  }
}

/** A tool call: name, status, arguments and a collapsible result; an approval card while it waits. */
export function ToolCallCard({ call, decision, t, onApprove }: ToolCallCardProps) {
  const statusKey = `toolStatus_${call.status}` as const;
  const waiting = call.status === 'awaiting_approval' && !decision;
  const args = formatArgs(call.args ?? {});
  return (
    <div class={`cc-tool cc-tool-${call.status}`}>
      <details>
        <summary>
          <span class="cc-tool-name">{call.toolName}</span>
          <span class="cc-badge">{t(statusKey)}</span>
        </summary>
        <div class="cc-tool-body">
          <div class="cc-label">{t('arguments')}</div>
          <ScrollablePre>{args}</ScrollablePre>
          {call.output !== undefined && call.output !== '' && (
            <details class="cc-result">
              <summary>{t('result')}</summary>
              <ScrollablePre>{call.output}</ScrollablePre>
            </details>
          )}
        </div>
      </details>
      {waiting && (
        <fieldset class="cc-approval">
          <legend>{t('approvalPrompt', { tool: call.toolName })}</legend>
          <ScrollablePre>{args}</ScrollablePre>
          <div class="cc-actions">
            {(Object.keys(OUTCOME_LABELS) as ApprovalOutcome[]).map((outcome) => (
              <button
                key={outcome}
                type="button"
                class={outcome === 'cancel' ? 'cc-button cc-secondary' : 'cc-button'}
                onClick={(event) => {
                  const root = event.currentTarget.getRootNode() as ShadowRoot | Document;
                  onApprove(call.callId, outcome);
                  // These buttons go away: keep keyboard users in the composer (on Stop while the agent works).
                  (root.querySelector<HTMLElement>('.cc-stop') ?? root.querySelector<HTMLElement>('.cc-input'))?.focus();
                }}
              >
                {t(OUTCOME_LABELS[outcome])}
              </button>
            ))}
          </div>
        </fieldset>
      )}
      {decision ? (
        <p class="cc-decision">{t(`chosen_${decision}`)}</p>
      ) : call.status === 'rejected' ? (
        <p class="cc-decision">{t('denied')}</p>
      ) : null}
    </div>
  );
}
