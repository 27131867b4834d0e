import type { ApprovalOutcome } from '@concierge/shared';
import { computed, signal } from '@preact/signals';
import type { WidgetStorage } from './widget-storage.ts';

/** The key of one decision: call ids are unique within a task only, so the task is part of it. */
export function toDecisionKey(taskId: string, callId: string): string {
  return `${taskId} ${callId}`;
}

/** The visitor's approval choices, remembered per task and call across reloads. */
export type ApprovalDecisions = ReturnType<typeof createApprovalDecisions>;

/** Creates the decisions store; `forTask` derives the current conversation's choices keyed by call id. */
export function createApprovalDecisions(storage: WidgetStorage, taskId: { readonly value: string | null }) {
  const all = signal<Record<string, ApprovalOutcome>>(storage.getDecisions());
  /** The open conversation's decisions by call id: what the approval cards read. */
  const current = computed(() => {
    const id = taskId.value;
    const byCall: Record<string, ApprovalOutcome> = {};
    if (!id) return byCall;
    const prefix = toDecisionKey(id, '');
    for (const key in all.value) if (key.startsWith(prefix)) byCall[key.slice(prefix.length)] = all.value[key]!;
    return byCall;
  });
  const remember = (id: string, callId: string, outcome: ApprovalOutcome | null) => {
    const key = toDecisionKey(id, callId);
    const { [key]: _previous, ...rest } = all.peek();
    all.value = outcome ? { ...rest, [key]: outcome } : rest;
    storage.setDecision(key, outcome);
  };
  return { current, remember, has: (id: string, callId: string) => toDecisionKey(id, callId) in all.peek() };
}
