import type { Logger } from '../../logging/logger.ts';
import type { EndUserContextsRepository } from '../../store/end-user-contexts-repository.ts';
import type { SecretBox } from './secret-box.ts';

/** The env and secrets a site owner's backend gave for one end user at token exchange. */
export interface EndUserContext {
  env: Record<string, string>;
  secrets: Record<string, string>;
}

const EMPTY: EndUserContext = Object.freeze({ env: {}, secrets: {} }) as EndUserContext;

/** Keeps each end user's context sealed at rest (AES-256-GCM); the latest exchange replaces the previous one. */
export function createEndUserContextStore(deps: { repository: EndUserContextsRepository; box: SecretBox; logger: Logger }) {
  // Binds the ciphertext to its row, so a sealed context cannot be copied to another end user.
  const bindingOf = (appId: string, endUserId: string) => JSON.stringify(['end-user-context', appId, endUserId]);
  return {
    async save(appId: string, endUserId: string, context: EndUserContext): Promise<void> {
      if (Object.keys(context.env).length === 0 && Object.keys(context.secrets).length === 0) {
        await deps.repository.remove(appId, endUserId);
        return;
      }
      const sealed = deps.box.seal(JSON.stringify(context), bindingOf(appId, endUserId));
      await deps.repository.put(appId, endUserId, sealed, new Date().toISOString());
    },

    /** The end user's context; empty when there is none or it cannot be opened (e.g. its key was rotated out), which is logged. */
    async load(appId: string, endUserId: string): Promise<EndUserContext> {
      const sealed = await deps.repository.find(appId, endUserId);
      if (sealed === undefined) return EMPTY;
      try {
        const parsed = JSON.parse(deps.box.open(sealed, bindingOf(appId, endUserId))) as EndUserContext;
        return { env: parsed.env ?? {}, secrets: parsed.secrets ?? {} };
      } catch (error) {
        deps.logger.warn({ appId, error }, 'cannot open an end user’s stored env/secrets (was the server secret rotated out?); running without them until their next token exchange');
        return EMPTY;
      }
    },
  };
}

export type EndUserContextStore = ReturnType<typeof createEndUserContextStore>;
