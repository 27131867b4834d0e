import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';

/** The file in the data dir that names it, and the setting that names the one every server of the database uses. */
const MARKER_FILE = 'data-dir-id';
const SETTING = 'data_dir_id';

const readMarker = async (markerPath: string) => (await fs.readFile(markerPath, 'utf8').catch(() => '')).trim() || undefined;

/**
 * Servers sharing a PostgreSQL database must share one data dir (task workspaces, uploads, artifacts):
 * with one data dir per server, a task that moves between servers finds no workspace. The first server
 * names its data dir in the database and in a marker file there; later servers compare. Returns a
 * warning when this data dir is not the one the database knows, else undefined.
 */
export async function checkSharedDataDir(db: Kysely<Database>, dataDir: string): Promise<string | undefined> {
  const markerPath = path.join(dataDir, MARKER_FILE);
  const marker = await readMarker(markerPath);
  const inserted = await db
    .insertInto('settings')
    .values({ key: SETTING, value: marker ?? randomUUID() })
    .onConflict((conflict) => conflict.column('key').doNothing())
    .executeTakeFirst();
  const known = (await db.selectFrom('settings').select('value').where('key', '=', SETTING).executeTakeFirstOrThrow()).value;
  // The database knew no data dir: this one is the shared one from now on ('wx': a server starting at
  // the same moment on the same volume may have written it first).
  if (marker === undefined && Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0) {
    await fs.writeFile(markerPath, `${known}\n`, { mode: 0o600, flag: 'wx' }).catch(() => {});
  }
  const now = marker ?? (await readMarker(markerPath));
  if (now === known) return undefined;
  return (
    `The data dir ${dataDir} is not the one the other servers of this PostgreSQL database use (its ${MARKER_FILE} file ` +
    `${now === undefined ? 'is missing' : 'names another data dir'}). Task workspaces, uploads and artifacts live in the data dir, ` +
    'so a task that moves between servers would find none of them. Put CONCIERGE_DATA_DIR on a volume every server mounts ' +
    '(docs/operations.md, "Several servers").'
  );
}
