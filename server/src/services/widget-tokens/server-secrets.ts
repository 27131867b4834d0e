import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '../../config.ts';
import type { Logger } from '../../logging/logger.ts';

/** The file in the data dir that holds the generated secret when CONCIERGE_JWT_SECRET is not set. */
export const JWT_SECRET_FILE = 'jwt-secret';
/** HS256 wants at least 256 bits of key (RFC 7518 §3.2); 32 characters of a random string is the floor we accept. */
export const MIN_SECRET_CHARS = 32;

/** The server secrets widget tokens are signed with and end-user contexts are sealed with: the first is current. */
export interface ServerSecrets {
  secrets: string[];
  source: 'environment' | 'file';
}

/** Splits a comma-separated secret list (rotation: new secret first, old ones after); throws ConfigError when one is too short. */
export function parseSecretList(value: string, origin: string): string[] {
  const secrets = [...new Set(value.split(',').map((part) => part.trim()).filter((part) => part !== ''))];
  if (secrets.length === 0) throw new ConfigError(`${origin} holds no secret`);
  for (const [index, secret] of secrets.entries()) {
    if (secret.length < MIN_SECRET_CHARS) {
      throw new ConfigError(`${origin}: secret #${index + 1} is ${secret.length} characters; use at least ${MIN_SECRET_CHARS} random characters (e.g. openssl rand -hex 32)`);
    }
  }
  return secrets;
}

/**
 * Loads the server secrets: CONCIERGE_JWT_SECRET when set (comma-separated for rotation), otherwise
 * `<dataDir>/jwt-secret`, generated once with mode 0600. Resolves to undefined, with a warning, only
 * when no secret is configured and none can be kept in the data dir (widget tokens then answer
 * JWT_NOT_CONFIGURED).
 */
export async function loadServerSecrets(options: { jwtSecret: string | undefined; dataDir: string; logger: Logger }): Promise<ServerSecrets | undefined> {
  if (options.jwtSecret !== undefined) return { secrets: parseSecretList(options.jwtSecret, 'CONCIERGE_JWT_SECRET'), source: 'environment' };
  const file = path.join(options.dataDir, JWT_SECRET_FILE);
  try {
    await fs.mkdir(options.dataDir, { recursive: true, mode: 0o700 });
    try {
      await fs.writeFile(file, `${randomBytes(32).toString('hex')}\n`, { flag: 'wx', mode: 0o600 });
      options.logger.info({ file }, 'generated the widget token signing secret; set CONCIERGE_JWT_SECRET to share one across servers');
    } catch (error) {
      // Another process (or an earlier run) wrote it first: use that one.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const stat = await fs.stat(file);
    if ((stat.mode & 0o077) !== 0) {
      options.logger.warn({ file, mode: (stat.mode & 0o777).toString(8) }, 'the widget token secret file was readable by others; tightening it to 0600');
      await fs.chmod(file, 0o600);
    }
    return { secrets: parseSecretList(await fs.readFile(file, 'utf8'), file), source: 'file' };
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    options.logger.warn({ file, error }, 'cannot keep a widget token secret in the data dir and CONCIERGE_JWT_SECRET is not set: widget tokens are disabled (JWT_NOT_CONFIGURED)');
    return undefined;
  }
}
