import fs from 'node:fs/promises';

/** The credentials `npm run demo` created on its first run, kept in `<data dir>/demo.json` (mode 0600). */
export interface DemoState {
  version: 1;
  project: string;
  apiKey: { id: string; key: string };
  app: { appId: string; appSecret: string; origins: string[] };
}

function isDemoState(value: unknown): value is DemoState {
  const state = value as Partial<DemoState> | null;
  return (
    typeof state === 'object' &&
    state !== null &&
    state.version === 1 &&
    typeof state.project === 'string' &&
    typeof state.apiKey?.id === 'string' &&
    typeof state.apiKey.key === 'string' &&
    typeof state.app?.appId === 'string' &&
    typeof state.app.appSecret === 'string' &&
    Array.isArray(state.app.origins)
  );
}

/** Reads the saved state; `undefined` when there is none or it is unreadable (the demo then starts over). */
export async function loadDemoState(file: string): Promise<DemoState | undefined> {
  let raw: string;
  try {
    raw = await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const parsed: unknown = JSON.parse(raw);
    return isDemoState(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Writes the state atomically, readable by the owner only (it holds an API key and an app secret). */
export async function saveDemoState(file: string, state: DemoState): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await fs.writeFile(temporary, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  await fs.chmod(temporary, 0o600);
  await fs.rename(temporary, file);
}
