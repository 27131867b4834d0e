import type { openDatabase } from '../store/open-database.ts';

export interface CommandHelpers {
  withDatabase<T>(work: (db: Awaited<ReturnType<typeof openDatabase>>) => Promise<T>): Promise<T>;
  print(json: boolean, object: Record<string, unknown>, text: string): void;
  UsageError: new (message: string) => Error;
}

/** `concierge apps …` (built in the widget identity issue). */
export async function appsCommand(_args: string[], helpers: CommandHelpers): Promise<void> {
  throw new helpers.UsageError('apps commands are not available yet');
}
