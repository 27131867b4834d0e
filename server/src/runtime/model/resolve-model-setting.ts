/** Which model to use and how to reach it, as read from the environment. */
export type ModelSetting = { model: string; baseUrl?: string; apiKey?: string; openaiStore?: boolean };

/** Default model when only ANTHROPIC_API_KEY is set. */
export const DEFAULT_ANTHROPIC_MODEL = 'anthropic:claude-sonnet-4-5';
/** Default model when only OPENAI_API_KEY is set. */
export const DEFAULT_OPENAI_MODEL = 'openai:gpt-4o-mini';

/** Every variable the model settings read (config.ts hands exactly these over). */
export const MODEL_ENV_NAMES = [
  'CONCIERGE_MODEL',
  'CONCIERGE_LLM_BASE_URL',
  'CONCIERGE_LLM_API_KEY',
  'CONCIERGE_ANTHROPIC_BASE_URL',
  'CONCIERGE_ANTHROPIC_API_KEY',
  'ANTHROPIC_API_KEY',
  'CONCIERGE_OPENAI_BASE_URL',
  'CONCIERGE_OPENAI_API_KEY',
  'OPENAI_API_KEY',
  'CONCIERGE_OPENAI_STORE',
  'CONCIERGE_OPENAI_COMPATIBLE_BASE_URL',
  'CONCIERGE_OPENAI_COMPATIBLE_API_KEY',
] as const;

/** The provider's own variables, most specific first: `CONCIERGE_<PROVIDER>_…`, then the vendor's usual name. */
const PROVIDER_VARIABLES: Record<string, { baseUrl: string[]; apiKey: string[] }> = {
  anthropic: { baseUrl: ['CONCIERGE_ANTHROPIC_BASE_URL'], apiKey: ['CONCIERGE_ANTHROPIC_API_KEY', 'ANTHROPIC_API_KEY'] },
  openai: { baseUrl: ['CONCIERGE_OPENAI_BASE_URL'], apiKey: ['CONCIERGE_OPENAI_API_KEY', 'OPENAI_API_KEY'] },
  // An openai-compatible endpoint is often a third party: never send it the OpenAI key implicitly.
  'openai-compatible': { baseUrl: ['CONCIERGE_OPENAI_COMPATIBLE_BASE_URL'], apiKey: ['CONCIERGE_OPENAI_COMPATIBLE_API_KEY'] },
};

/** The variables that can give `provider` its key, in the order they are read (for error messages). */
export function apiKeyVariables(provider: string): string[] {
  return ['CONCIERGE_LLM_API_KEY', ...(PROVIDER_VARIABLES[provider]?.apiKey ?? [])];
}

/** The variables that can give `provider` its base URL, in the order they are read. */
export function baseUrlVariables(provider: string): string[] {
  return ['CONCIERGE_LLM_BASE_URL', ...(PROVIDER_VARIABLES[provider]?.baseUrl ?? [])];
}

/**
 * Applies the contract's defaults and the per-provider settings. The server's model is CONCIERGE_MODEL if set,
 * else Anthropic or OpenAI when their key is set, else `scripted`. `projectModel` (a project's own `model`) picks
 * another model; it is reached with its provider's own variables. CONCIERGE_LLM_BASE_URL / CONCIERGE_LLM_API_KEY
 * apply only to the provider of the server's model, before that provider's own variables. Empty values are unset.
 */
export function resolveModelSetting(env: Record<string, string | undefined>, projectModel?: string): ModelSetting {
  const read = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const first = (names: string[]) => names.map(read).find((value) => value !== undefined);
  const serverModel =
    read('CONCIERGE_MODEL') ??
    (read('ANTHROPIC_API_KEY') !== undefined ? DEFAULT_ANTHROPIC_MODEL : read('OPENAI_API_KEY') !== undefined ? DEFAULT_OPENAI_MODEL : 'scripted');
  const model = projectModel?.trim() || serverModel;
  const provider = providerOf(model);
  const own = PROVIDER_VARIABLES[provider] ?? { baseUrl: [], apiKey: [] };
  const generic = provider === providerOf(serverModel);
  const apiKey = first([...(generic ? ['CONCIERGE_LLM_API_KEY'] : []), ...own.apiKey]);
  const baseUrl = first([...(generic ? ['CONCIERGE_LLM_BASE_URL'] : []), ...own.baseUrl]);
  const store = read('CONCIERGE_OPENAI_STORE');
  return {
    model,
    ...(baseUrl !== undefined ? { baseUrl } : {}),
    ...(apiKey !== undefined ? { apiKey } : {}),
    ...(provider === 'openai' ? { openaiStore: store === 'true' || store === '1' } : {}),
  };
}

function providerOf(model: string): string {
  return model.split(':', 1)[0]!.trim();
}
