import { createAnthropic } from '@ai-sdk/anthropic';
import { createOpenAI } from '@ai-sdk/openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import type { LanguageModelV3 } from '@ai-sdk/provider';
import { createScriptedModel, type ScriptedModelOptions } from './scripted-model.ts';
import type { ModelSetting } from './resolve-model-setting.ts';

export { resolveModelSetting, type ModelSetting } from './resolve-model-setting.ts';

/** The model providers CONCIERGE_MODEL may name. */
export const MODEL_PROVIDERS = ['anthropic', 'openai', 'openai-compatible', 'scripted'] as const;

/** One of MODEL_PROVIDERS. */
export type ModelProvider = (typeof MODEL_PROVIDERS)[number];

/** A ready model plus the names to show for it (logs, /healthz). */
export type CreatedModel = { model: LanguageModelV3; provider: ModelProvider; modelId: string; label: string };

/** Options that only tests and benchmarks need. */
export type CreateModelOptions = { scripted?: ScriptedModelOptions };

/**
 * Builds the model named by a `<provider>:<model id>` setting (`scripted` alone is allowed). Throws an Error naming
 * the variable to fix when the provider is unknown, the model id is missing, or a required URL or key is absent.
 * `scripted:fast` is the scripted model without pauses between chunks (for benchmarks).
 */
export function createModel(setting: ModelSetting, options: CreateModelOptions = {}): CreatedModel {
  const { provider, modelId } = parseModelName(setting.model);
  const label = `${provider}:${modelId}`;
  switch (provider) {
    case 'scripted': {
      const scripted: ScriptedModelOptions = { modelId, ...(modelId === 'fast' ? { chunkDelayMs: 0 } : {}), ...options.scripted };
      return { model: createScriptedModel(scripted), provider, modelId, label };
    }
    case 'anthropic': {
      const apiKey = requireApiKey(setting, 'ANTHROPIC_API_KEY');
      const anthropic = createAnthropic({ apiKey, ...(setting.baseUrl !== undefined ? { baseURL: setting.baseUrl } : {}) });
      return { model: anthropic(modelId), provider, modelId, label };
    }
    case 'openai': {
      const apiKey = requireApiKey(setting, 'OPENAI_API_KEY');
      const openai = createOpenAI({ apiKey, ...(setting.baseUrl !== undefined ? { baseURL: setting.baseUrl } : {}) });
      return { model: openai(modelId), provider, modelId, label };
    }
    case 'openai-compatible': {
      if (setting.baseUrl === undefined) {
        throw new Error(
          `CONCIERGE_MODEL="${setting.model}" needs CONCIERGE_LLM_BASE_URL, the endpoint's base URL (e.g. http://127.0.0.1:11434/v1 for Ollama).`,
        );
      }
      const compatible = createOpenAICompatible({
        name: 'openai-compatible',
        baseURL: setting.baseUrl,
        includeUsage: true,
        ...(setting.apiKey !== undefined ? { apiKey: setting.apiKey } : {}),
      });
      return { model: compatible.chatModel(modelId), provider, modelId, label };
    }
  }
}

function parseModelName(model: string): { provider: ModelProvider; modelId: string } {
  const trimmed = model.trim();
  const separator = trimmed.indexOf(':');
  const provider = separator === -1 ? trimmed : trimmed.slice(0, separator);
  const modelId = separator === -1 ? '' : trimmed.slice(separator + 1).trim();
  if (!isModelProvider(provider)) {
    throw new Error(
      `CONCIERGE_MODEL="${model}" names an unknown provider "${provider}"; use <provider>:<model id> with one of: ${MODEL_PROVIDERS.join(', ')}.`,
    );
  }
  if (provider === 'scripted') return { provider, modelId: modelId === '' ? 'demo' : modelId };
  if (modelId === '') {
    throw new Error(`CONCIERGE_MODEL="${model}" has no model id; write it as ${provider}:<model id>, e.g. ${EXAMPLES[provider]}.`);
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

function requireApiKey(setting: ModelSetting, providerVariable: string): string {
  if (setting.apiKey === undefined || setting.apiKey === '') {
    throw new Error(`CONCIERGE_MODEL="${setting.model}" needs an API key: set CONCIERGE_LLM_API_KEY or ${providerVariable}.`);
  }
  return setting.apiKey;
}
