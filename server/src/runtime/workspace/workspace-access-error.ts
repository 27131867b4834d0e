/** Why a workspace path could not be used; each reason maps to a plain message for the model or a 404. */
export type WorkspaceAccessReason = 'invalid' | 'outside' | 'missing' | 'link' | 'not_directory' | 'not_regular' | 'exists' | 'too_large';

/** A refusal from the workspace module. Its message names the path as the caller gave it and is safe to show. */
export class WorkspaceAccessError extends Error {
  override name = 'WorkspaceAccessError';
  constructor(
    readonly reason: WorkspaceAccessReason,
    message: string,
  ) {
    super(message);
  }
}
