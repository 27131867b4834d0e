/** Thrown at start-up when `CONCIERGE_SANDBOX=bwrap` but bubblewrap is missing or cannot create a sandbox. */
export class SandboxUnavailableError extends Error {
  override name = 'SandboxUnavailableError';
}
