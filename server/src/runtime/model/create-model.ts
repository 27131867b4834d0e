import { createAnthropic } from '@ai-sdk/anthropic';
import { createOpenAI } from '@ai-sdk/openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import type { LanguageModelV3 } from '@ai-sdk/provider';
import { wrapLanguageModel } from 'ai';
import { ModelConfigError } from './model-config-error.ts';
import { apiKeyVariables, baseUrlVariables, type ModelSetting } from './resolve-model-setting.ts';
import { createScriptedModel, type ScriptedModelOptions } from './scripted-model.ts';
import { withIdleTimeout } from './with-idle-timeout.ts';

export { resolveModelSetting, type ModelSetting } from './resolve-model-setting.ts';

/** The model providers CONCIERGE_MODEL may name. */
export const MODEL_PROVIDERS = ['anthropic', 'openai', 'openai-compatible', 'scripted'] as const;

/** One of MODEL_PROVIDERS. */
export type ModelProvider = (typeof MODEL_PROVIDERS)[number];

/** A ready model plus the names to show for it (logs, /healthz). */
export type CreatedModel = { model: LanguageModelV3; provider: ModelProvider; modelId: string; label: string };

/** `idleTimeoutMs`: a provider stream silent this long fails (0 or absent: no limit); `scripted` for tests and benchmarks. */
export type CreateModelOptions = { scripted?: ScriptedModelOptions; idleTimeoutMs?: number };

/**
 * Builds the model named by a `<provider>:<model id>` setting (`scripted` alone is allowed). Throws ModelConfigError
 * naming the variable to fix when the provider is unknown, the model id is missing, or a required URL or key is absent.
 * `scripted:fast` is the scripted model without pauses between chunks (for benchmarks).
 */
export function createModel(setting: ModelSetting, options: CreateModelOptions = {}): CreatedModel {
  const { provider, modelId } = parseModelName(setting.model);
  const label = `${provider}:${modelId}`;
  const guard = (model: LanguageModelV3) => withIdleTimeout(model, options.idleTimeoutMs ?? 0);
  switch (provider) {
    case 'scripted': {
      const scripted: ScriptedModelOptions = { modelId, ...(modelId === 'fast' ? { chunkDelayMs: 0 } : {}), ...options.scripted };
      return { model: createScriptedModel(scripted), provider, modelId, label };
    }
    case 'anthropic': {
      const apiKey = requireApiKey(setting, provider);
      const anthropic = createAnthropic({ apiKey, ...(setting.baseUrl !== undefined ? { baseURL: setting.baseUrl } : {}) });
      return { model: guard(anthropic(modelId)), provider, modelId, label };
    }
    case 'openai': {
      const apiKey = requireApiKey(setting, provider);
      const openai = createOpenAI({ apiKey, ...(setting.baseUrl !== undefined ? { baseURL: setting.baseUrl } : {}) });
      const model = setting.openaiStore === true ? openai(modelId) : withoutStore(openai(modelId));
      return { model: guard(model), provider, modelId, label };
    }
    case 'openai-compatible': {
      if (setting.baseUrl === undefined) {
        throw new ModelConfigError(
          `The model "${setting.model}" needs ${baseUrlVariables(provider).join(' or ')}, the endpoint's base URL (e.g. http://127.0.0.1:11434/v1 for Ollama).`,
        );
      }
      const compatible = createOpenAICompatible({
        name: 'openai-compatible',
        baseURL: setting.baseUrl,
        includeUsage: true,
        ...(setting.apiKey !== undefined ? { apiKey: setting.apiKey } : {}),
      });
      return { model: guard(compatible.chatModel(modelId)), provider, modelId, label };
    }
  }
}

function parseModelName(model: string): { provider: ModelProvider; modelId: string } {
  const trimmed = model.trim();
  const separator = trimmed.indexOf(':');
  const provider = separator === -1 ? trimmed : trimmed.slice(0, separator);
  const modelId = separator === -1 ? '' : trimmed.slice(separator + 1).trim();
  if (!isModelProvider(provider)) {
    throw new ModelConfigError(
      `The model "${model}" names an unknown provider "${provider}"; use <provider>:<model id> with one of: ${MODEL_PROVIDERS.join(', ')}.`,
    );
  }
  if (provider === 'scripted') return { provider, modelId: modelId === '' ? 'demo' : modelId };
  if (modelId === '') {
    throw new ModelConfigError(`The model "${model}" has no model id; write it as ${provider}:<model id>, e.g. ${EXAMPLES[provider]}.`);
  }
  return { provider, modelId };
}

const EXAMPLES: Record<Exclude<ModelProvider, 'scripted'>, string> = {
  anthropic: 'anthropic:claude-sonnet-4-5',
  openai: 'openai:gpt-4o-mini',
  'openai-compatible': 'openai-compatible:llama3.2',
};

function isModelProvider(name: string): name is ModelProvider {
  return (MODEL_PROVIDERS as readonly string[]).includes(name);
}

function requireApiKey(setting: ModelSetting, provider: ModelProvider): string {
  if (setting.apiKey === undefined || setting.apiKey === '') {
    const [generic, ...own] = apiKeyVariables(provider);
    throw new ModelConfigError(
      `The model "${setting.model}" needs an API key: set ${own.join(' or ')} (or ${generic} when it is the provider of CONCIERGE_MODEL).`,
    );
  }
  return setting.apiKey;
}

// OpenAI keeps Responses API calls (prompts included) for 30 days unless told not to; Concierge does not ask it to.
function withoutStore(model: LanguageModelV3): LanguageModelV3 {
  return wrapLanguageModel({
    model,
    middleware: {
      specificationVersion: 'v3',
      transformParams: async ({ params }) => ({
        ...params,
        providerOptions: { ...params.providerOptions, openai: { store: false, ...params.providerOptions?.openai } },
      }),
    },
  });
}
