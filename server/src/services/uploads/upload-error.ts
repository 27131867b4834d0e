/** Error codes an upload can fail with (wire codes from `@concierge/shared`). */
export type UploadErrorCode = 'VALIDATION_ERROR' | 'PAYLOAD_TOO_LARGE';

/** A refused upload; the message is safe to show the client, the http layer maps it to the envelope. */
export class UploadError extends Error {
  override name = 'UploadError';

  constructor(
    message: string,
    readonly code: UploadErrorCode,
    readonly status: 400 | 413,
  ) {
    super(message);
  }
}
