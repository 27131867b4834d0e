/** Which model to use and how to reach it, as read from the environment. */
export type ModelSetting = { model: string; baseUrl?: string; apiKey?: string };

/** Default model when only ANTHROPIC_API_KEY is set. */
export const DEFAULT_ANTHROPIC_MODEL = 'anthropic:claude-sonnet-4-5';
/** Default model when only OPENAI_API_KEY is set. */
export const DEFAULT_OPENAI_MODEL = 'openai:gpt-4o-mini';

/**
 * Applies the contract's defaults: CONCIERGE_MODEL if set, else Anthropic or OpenAI when their key is set, else
 * `scripted`; the key is CONCIERGE_LLM_API_KEY, else the chosen provider's own variable. Empty values count as unset.
 */
export function resolveModelSetting(env: Record<string, string | undefined>): ModelSetting {
  const read = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const anthropicKey = read('ANTHROPIC_API_KEY');
  const openaiKey = read('OPENAI_API_KEY');
  const model =
    read('CONCIERGE_MODEL') ??
    (anthropicKey !== undefined ? DEFAULT_ANTHROPIC_MODEL : openaiKey !== undefined ? DEFAULT_OPENAI_MODEL : 'scripted');
  const provider = model.split(':', 1)[0];
  // An openai-compatible endpoint is often a third party: never send it the OpenAI key implicitly.
  const providerKey = provider === 'anthropic' ? anthropicKey : provider === 'openai' ? openaiKey : undefined;
  const apiKey = read('CONCIERGE_LLM_API_KEY') ?? providerKey;
  const baseUrl = read('CONCIERGE_LLM_BASE_URL');
  return { model, ...(baseUrl !== undefined ? { baseUrl } : {}), ...(apiKey !== undefined ? { apiKey } : {}) };
}
