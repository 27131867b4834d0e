import { describe, expect, it } from 'vitest';
import { isLiveEventName, isTaskEventName, TASK_EVENT_NAMES } from './event-names.ts';

describe('TASK_EVENT_NAMES', () => {
  it('lists every event of TaskEventMap once', () => {
    expect([...TASK_EVENT_NAMES].sort()).toEqual(
      ['content', 'done', 'error', 'history_done', 'history_message', 'status', 'thought', 'tool_call', 'tool_decision', 'tool_result', 'user_message'],
    );
  });
});

describe('isTaskEventName', () => {
  it('accepts known names and refuses unknown ones and inherited keys', () => {
    expect(isTaskEventName('tool_call')).toBe(true);
    expect(isTaskEventName('subagent_start')).toBe(false);
    expect(isTaskEventName('toString')).toBe(false);
  });
});

describe('isLiveEventName', () => {
  it('is true for events sent as logged, false for replay-only and log-only ones', () => {
    expect(isLiveEventName('content')).toBe(true);
    expect(isLiveEventName('done')).toBe(true);
    expect(isLiveEventName('user_message')).toBe(true);
    expect(isLiveEventName('history_message')).toBe(false);
    expect(isLiveEventName('tool_decision')).toBe(false);
    expect(isLiveEventName('nope')).toBe(false);
  });
});
