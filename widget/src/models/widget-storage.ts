import type { ApprovalOutcome } from '@concierge/shared';

/** Keep at most this many approval decisions (oldest dropped). */
const MAX_DECISIONS = 200;

/** What the widget remembers per server across reloads: the open task and approval choices. */
export interface WidgetStorage {
  getTaskId(): string | null;
  setTaskId(id: string | null): void;
  getDecisions(): Record<string, ApprovalOutcome>;
  /** `key` names the task and the call (toDecisionKey). */
  setDecision(key: string, outcome: ApprovalOutcome | null): void;
}

/** localStorage under keys prefixed by the host; a blocked storage (sandboxed iframe) just forgets. */
export function createWidgetStorage(host: string, storage: Storage | null = safeLocalStorage()): WidgetStorage {
  const taskKey = `concierge:${host}:task`;
  const decisionsKey = `concierge:${host}:decisions`;
  const read = (key: string) => {
    try {
      return storage?.getItem(key) ?? null;
    } catch {
      return null;
    }
  };
  const write = (key: string, value: string | null) => {
    try {
      if (value === null) storage?.removeItem(key);
      else storage?.setItem(key, value);
    } catch {
      // Quota or privacy mode: the widget still works, it just will not remember.
    }
  };
  const getDecisions = (): Record<string, ApprovalOutcome> => {
    try {
      const parsed = JSON.parse(read(decisionsKey) ?? '{}') as unknown;
      return parsed && typeof parsed === 'object' ? (parsed as Record<string, ApprovalOutcome>) : {};
    } catch {
      return {};
    }
  };
  return {
    getTaskId: () => read(taskKey),
    setTaskId: (id) => write(taskKey, id),
    getDecisions,
    setDecision(key, outcome) {
      const decisions = getDecisions();
      delete decisions[key];
      if (outcome) decisions[key] = outcome;
      const entries = Object.entries(decisions).slice(-MAX_DECISIONS);
      write(decisionsKey, JSON.stringify(Object.fromEntries(entries)));
    },
  };
}

function safeLocalStorage(): Storage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}
