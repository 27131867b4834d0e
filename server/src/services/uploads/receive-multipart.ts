import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import type { Readable } from 'node:stream';
import busboy from 'busboy';
import { UploadError } from './upload-error.ts';

/** A file received into the staging area, not yet placed in a workspace. */
export interface StagedFile {
  /** The name the client sent, unsanitised (placeUploads sanitises it). */
  name: string;
  /** Absolute path of the staged bytes. */
  path: string;
  size: number;
  mimeType: string;
}

/** Limits enforced while the body streams in. */
export interface ReceiveMultipartOptions {
  stagingDir: string;
  maxFiles: number;
  maxFileBytes: number;
  maxFieldBytes: number;
  /** All files together: what the task's workspace has free (its quota is checked again when they are placed). */
  maxTotalBytes?: number;
}

const FILE_FIELDS = new Set(['files', 'files[]']);
const MAX_FIELDS = 100;

function megabytes(bytes: number): string {
  return `${Math.round((bytes / 1024 / 1024) * 10) / 10} MB`;
}

/**
 * Streams a multipart body: fields into memory, `files` (or `files[]`) into a fresh directory under
 * `stagingDir`. Refuses too many files (400 VALIDATION_ERROR), a file too large or files together larger
 * than `maxTotalBytes` (413 PAYLOAD_TOO_LARGE) as soon as the limit is crossed, so a request can never put
 * more on disk than the workspace could take; deletes everything staged whenever it fails.
 */
export async function receiveMultipart(
  request: IncomingMessage,
  options: ReceiveMultipartOptions,
): Promise<{ fields: Record<string, string>; files: StagedFile[] }> {
  await mkdir(options.stagingDir, { recursive: true });
  const dir = await mkdtemp(path.join(options.stagingDir, 'upload-'));
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: request.headers,
      defParamCharset: 'utf8',
      limits: { files: options.maxFiles, fileSize: options.maxFileBytes, fieldSize: options.maxFieldBytes, fields: MAX_FIELDS },
    });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw new UploadError(`Malformed multipart request: ${(error as Error).message}`, 'VALIDATION_ERROR', 400);
  }

  const fields: Record<string, string> = {};
  const files: StagedFile[] = [];
  let totalBytes = 0;
  const writes: Promise<void>[] = [];
  const activeWrites = new Set<{ stream: Readable; out: WriteStream }>();
  let failure: UploadError | undefined;

  return new Promise((resolve, reject) => {
    const fail = (error: UploadError) => {
      if (failure) return;
      failure = error;
      // busboy keeps parsing (and discarding) the rest of the body, so the client gets our answer instead
      // of a reset connection; the files being written stop here.
      for (const { stream, out } of activeWrites) {
        stream.unpipe(out);
        out.destroy();
        stream.resume();
      }
      void Promise.allSettled(writes)
        .then(() => rm(dir, { recursive: true, force: true }))
        .then(() => reject(error));
    };

    parser.on('file', (fieldName, stream, info) => {
      if (failure) return stream.resume();
      if (!FILE_FIELDS.has(fieldName)) {
        stream.resume();
        return fail(new UploadError(`Unexpected file field "${fieldName}": send files as "files"`, 'VALIDATION_ERROR', 400));
      }
      // A form's empty file input sends a part with no file name; skip it.
      if (!info.filename) return stream.resume();
      const staged: StagedFile = { name: info.filename, path: path.join(dir, String(files.length)), size: 0, mimeType: info.mimeType };
      files.push(staged);
      stream.on('data', (chunk: Buffer) => {
        staged.size += chunk.length;
        totalBytes += chunk.length;
        if (options.maxTotalBytes !== undefined && totalBytes > options.maxTotalBytes) {
          fail(
            new UploadError(
              `The files together are larger than the ${megabytes(options.maxTotalBytes)} the task's workspace has free`,
              'PAYLOAD_TOO_LARGE',
              413,
            ),
          );
        }
      });
      stream.on('limit', () => {
        fail(
          new UploadError(
            `File "${info.filename}" is larger than the ${megabytes(options.maxFileBytes)} limit per file`,
            'PAYLOAD_TOO_LARGE',
            413,
          ),
        );
      });
      const out = createWriteStream(staged.path);
      const write = { stream, out };
      activeWrites.add(write);
      writes.push(
        new Promise<void>((settle) => {
          out.once('close', () => {
            activeWrites.delete(write);
            settle();
          });
          out.once('error', (error) => {
            fail(new UploadError(`Could not receive file "${info.filename}": ${error.message}`, 'VALIDATION_ERROR', 400));
          });
        }),
      );
      // busboy also errors the open file stream when the body breaks off mid-file.
      stream.on('error', (error: Error) => {
        fail(new UploadError(`Malformed multipart request: ${error.message}`, 'VALIDATION_ERROR', 400));
        out.destroy();
      });
      stream.pipe(out);
    });
    parser.on('field', (name, value, info) => {
      if (failure) return;
      if (info.valueTruncated) {
        return fail(new UploadError(`Field "${name}" is larger than ${options.maxFieldBytes} bytes`, 'PAYLOAD_TOO_LARGE', 413));
      }
      fields[name] = value;
    });
    parser.on('filesLimit', () => {
      fail(new UploadError(`Too many files: at most ${options.maxFiles} files per request`, 'VALIDATION_ERROR', 400));
    });
    parser.on('fieldsLimit', () => {
      fail(new UploadError(`Too many form fields: at most ${MAX_FIELDS}`, 'VALIDATION_ERROR', 400));
    });
    parser.on('error', (error: Error) => {
      // A broken body stops the parser: stop feeding it and drain the request ourselves.
      request.unpipe(parser);
      request.resume();
      fail(new UploadError(`Malformed multipart request: ${error.message}`, 'VALIDATION_ERROR', 400));
    });
    parser.on('close', () => {
      void Promise.all(writes).then(() => {
        if (failure) return;
        if (files.length === 0) void rm(dir, { recursive: true, force: true });
        resolve({ fields, files });
      });
    });
    request.on('aborted', () => fail(new UploadError('The upload was interrupted before it finished', 'VALIDATION_ERROR', 400)));
    request.on('error', (error) => fail(new UploadError(`The upload failed: ${error.message}`, 'VALIDATION_ERROR', 400)));
    request.pipe(parser);
  });
}

/** Removes staged files and their staging folders (idempotent): every refused or finished request calls it. */
export async function discardStagedFiles(files: readonly StagedFile[]): Promise<void> {
  for (const dir of new Set(files.map((file) => path.dirname(file.path)))) await rm(dir, { recursive: true, force: true });
}
