import { Readable, Transform } from 'node:stream';
import { redactorCache } from '../../runtime/secrets/redactor-cache.ts';
import type { ArtifactFile } from './tasks-service.ts';

/**
 * The bytes of an artifact, read from its checked descriptor (never reopened by path), at most the size it
 * had when opened. When the task has secrets, their values are redacted wherever they occur: the bytes are
 * carried as latin1 text so binary files pass through unchanged except where a secret stood.
 */
export function toArtifactStream(file: ArtifactFile): { stream: Readable; length: number | undefined } {
  if (file.size === 0) {
    void file.handle.close();
    return { stream: Readable.from([]), length: 0 };
  }
  const source = file.handle.createReadStream({ start: 0, end: file.size - 1, autoClose: true });
  const secrets = file.secretValues.filter((value) => value.length > 0).map((value) => Buffer.from(value, 'utf8').toString('latin1'));
  if (secrets.length === 0) return { stream: source, length: file.size };
  const redactor = redactorCache.get(secrets).stream();
  const redacting = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      callback(null, Buffer.from(redactor.push(chunk.toString('latin1')), 'latin1'));
    },
    flush(callback) {
      callback(null, Buffer.from(redactor.flush(), 'latin1'));
    },
  });
  source.on('error', (error) => redacting.destroy(error));
  redacting.on('close', () => source.destroy());
  return { stream: source.pipe(redacting), length: undefined };
}
