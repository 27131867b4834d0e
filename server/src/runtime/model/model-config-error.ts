/** A model setting the server cannot use (unknown provider, no model id, a missing key or base URL). */
export class ModelConfigError extends Error {
  override name = 'ModelConfigError';
  readonly code = 'MODEL_NOT_CONFIGURED';
}
