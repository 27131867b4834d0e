import { type ApprovalOutcome, CANCELLED_TURN_MESSAGE, type ToolCall } from '@concierge/shared';
import type { Translate } from '../i18n/translate.ts';
import { toToolAction } from '../models/to-tool-action.ts';
import { ScrollablePre } from './scrollable-pre.tsx';

export interface ToolCallCardProps {
  call: ToolCall;
  decision: ApprovalOutcome | undefined;
  t: Translate;
  onApprove(callId: string, outcome: ApprovalOutcome): void;
}

// "Always allow" last and quiet: granting a tool for the whole conversation should be the deliberate choice.
const CHOICES = [
  ['proceed_once', 'allowOnce', 'cc-button'],
  ['cancel', 'deny', 'cc-button cc-secondary'],
  ['proceed_always', 'alwaysAllow', 'cc-button cc-quiet'],
] as const;

/** A tool call in words (what it does, its command or path as code), its status and result; an approval card while it waits. */
export function ToolCallCard({ call, decision, t, onApprove }: ToolCallCardProps) {
  const waiting = call.status === 'awaiting_approval' && !decision;
  // Closed by a stop (the shared fold's note), not denied or broken: say so.
  const stopped = call.output === CANCELLED_TURN_MESSAGE && (call.status === 'rejected' || call.status === 'error');
  const action = toToolAction(call, t);
  // A declined call's output is the note to the model ("Do not retry it…"): the badge says it for people.
  const output = call.output !== undefined && call.output !== '' && call.output !== CANCELLED_TURN_MESSAGE && call.status !== 'rejected' ? call.output : null;
  const details = action.details && <ScrollablePre>{action.details}</ScrollablePre>;
  return (
    <div class={`cc-tool cc-tool-${call.status}`} data-tool={call.toolName}>
      <div class="cc-tool-head">
        <span class="cc-tool-title">{action.title}</span>
        <span class="cc-badge">{stopped ? t('toolStopped') : t(`toolStatus_${call.status}`)}</span>
      </div>
      {action.subject && <code class="cc-tool-subject">{action.subject}</code>}
      {waiting ? (
        <fieldset class="cc-approval">
          <legend>{t('approvalPrompt')}</legend>
          {details}
          <div class="cc-actions">
            {CHOICES.map(([outcome, label, className]) => (
              <button
                key={outcome}
                type="button"
                class={className}
                onClick={(event) => {
                  const root = event.currentTarget.getRootNode() as ShadowRoot | Document;
                  onApprove(call.callId, outcome);
                  // These buttons go away: keep keyboard users in the composer (on Stop while the agent works).
                  (root.querySelector<HTMLElement>('.cc-stop') ?? root.querySelector<HTMLElement>('.cc-input'))?.focus();
                }}
              >
                {t(label)}
              </button>
            ))}
          </div>
        </fieldset>
      ) : (
        (details || output) && (
          <details class="cc-result">
            <summary>{output ? t('result') : t('arguments')}</summary>
            {details}
            {output && <ScrollablePre>{output}</ScrollablePre>}
          </details>
        )
      )}
      {decision ? (
        <p class="cc-decision">{t(`chosen_${decision}`)}</p>
      ) : call.status === 'rejected' && !stopped ? (
        <p class="cc-decision">{t('denied')}</p>
      ) : null}
    </div>
  );
}
