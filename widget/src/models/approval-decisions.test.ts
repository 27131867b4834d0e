import { signal } from '@preact/signals';
import { describe, expect, it } from 'vitest';
import { createApprovalDecisions } from './approval-decisions.ts';
import { createWidgetStorage } from './widget-storage.ts';

const memoryStorage = (): Storage => {
  const items = new Map<string, string>();
  return {
    get length() {
      return items.size;
    },
    clear: () => items.clear(),
    getItem: (key) => items.get(key) ?? null,
    key: (index) => [...items.keys()][index] ?? null,
    removeItem: (key) => void items.delete(key),
    setItem: (key, value) => void items.set(key, value),
  };
};

describe('createApprovalDecisions', () => {
  it('shows a decision only in the conversation it was made in, even when a new one reuses the call id', () => {
    const taskId = signal<string | null>('task-a');
    const decisions = createApprovalDecisions(createWidgetStorage('https://c.test', memoryStorage()), taskId);
    decisions.remember('task-a', 'call_1', 'proceed_once');
    expect(decisions.current.value).toEqual({ call_1: 'proceed_once' });
    taskId.value = 'task-b';
    expect(decisions.current.value).toEqual({});
    expect(decisions.has('task-b', 'call_1')).toBe(false);
    taskId.value = null;
    expect(decisions.current.value).toEqual({});
  });

  it('remembers decisions across reloads and forgets one that failed to send', () => {
    const storage = createWidgetStorage('https://c.test', memoryStorage());
    const taskId = signal<string | null>('task-a');
    const first = createApprovalDecisions(storage, taskId);
    first.remember('task-a', 'call_1', 'proceed_always');
    first.remember('task-a', 'call_2', 'cancel');
    first.remember('task-a', 'call_2', null);
    const reloaded = createApprovalDecisions(storage, taskId);
    expect(reloaded.current.value).toEqual({ call_1: 'proceed_always' });
  });
});
