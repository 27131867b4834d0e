import type { TaskEventName } from './events.ts';

/**
 * Where each event travels: `replay` only in a stream's history phase, `live` in the log and on the
 * wire, `log` only in the durable log. `user_message` is live so a resumed stream carries the follow-up
 * it missed; a full replay folds it into `history_message` instead.
 * Typed as a record over TaskEventMap, so adding an event without classifying it fails typecheck.
 */
export const TASK_EVENT_ROLES: { readonly [K in TaskEventName]: 'replay' | 'live' | 'log' } = {
  history_message: 'replay',
  history_done: 'replay',
  status: 'live',
  thought: 'live',
  content: 'live',
  tool_call: 'live',
  tool_result: 'live',
  user_message: 'live',
  tool_decision: 'log',
  error: 'live',
  done: 'live',
};

/** Every event name of TaskEventMap. */
export const TASK_EVENT_NAMES = Object.keys(TASK_EVENT_ROLES) as readonly TaskEventName[];

/** Whether `name` is an event this version knows (older clients ignore the others). */
export function isTaskEventName(name: string): name is TaskEventName {
  return Object.hasOwn(TASK_EVENT_ROLES, name);
}

/** Whether the event is sent on the wire as it was logged (everything but the replay and log-only ones). */
export function isLiveEventName(name: string): boolean {
  return isTaskEventName(name) && TASK_EVENT_ROLES[name] === 'live';
}
