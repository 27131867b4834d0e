import { describe, expect, it } from 'vitest';
import { resolveModelSetting } from './resolve-model-setting.ts';

describe('resolveModelSetting', () => {
  it('falls back to scripted when no provider key is set', () => {
    expect(resolveModelSetting({})).toEqual({ model: 'scripted' });
  });

  it('prefers Anthropic when ANTHROPIC_API_KEY is set', () => {
    expect(resolveModelSetting({ ANTHROPIC_API_KEY: 'a', OPENAI_API_KEY: 'o' })).toEqual({
      model: 'anthropic:claude-sonnet-4-5',
      apiKey: 'a',
    });
  });

  it('uses OpenAI when only OPENAI_API_KEY is set', () => {
    expect(resolveModelSetting({ OPENAI_API_KEY: 'o' })).toEqual({ model: 'openai:gpt-4o-mini', apiKey: 'o', openaiStore: false });
  });

  it('uses CONCIERGE_MODEL with the provider key of that provider', () => {
    expect(resolveModelSetting({ CONCIERGE_MODEL: 'openai:gpt-4.1', ANTHROPIC_API_KEY: 'a', OPENAI_API_KEY: 'o' })).toEqual({
      model: 'openai:gpt-4.1',
      apiKey: 'o',
      openaiStore: false,
    });
  });

  it('prefers CONCIERGE_LLM_API_KEY and passes CONCIERGE_LLM_BASE_URL', () => {
    expect(
      resolveModelSetting({
        CONCIERGE_MODEL: 'openai-compatible:llama3.2',
        CONCIERGE_LLM_BASE_URL: 'http://127.0.0.1:11434/v1',
        CONCIERGE_LLM_API_KEY: 'k',
        OPENAI_API_KEY: 'o',
      }),
    ).toEqual({ model: 'openai-compatible:llama3.2', baseUrl: 'http://127.0.0.1:11434/v1', apiKey: 'k' });
  });

  it('never sends the OpenAI key to an openai-compatible endpoint implicitly', () => {
    expect(resolveModelSetting({ CONCIERGE_MODEL: 'openai-compatible:x', OPENAI_API_KEY: 'o' })).toEqual({
      model: 'openai-compatible:x',
    });
  });

  it('treats empty values as unset', () => {
    expect(resolveModelSetting({ CONCIERGE_MODEL: ' ', ANTHROPIC_API_KEY: '', CONCIERGE_LLM_BASE_URL: '' })).toEqual({
      model: 'scripted',
    });
  });

  it("reaches a project model of another provider with that provider's own URL and key, not the server default's", () => {
    const env = {
      CONCIERGE_MODEL: 'openai:gpt-4.1',
      CONCIERGE_LLM_BASE_URL: 'https://proxy.example/v1',
      CONCIERGE_LLM_API_KEY: 'default-key',
      CONCIERGE_ANTHROPIC_BASE_URL: 'https://anthropic.example/v1',
      ANTHROPIC_API_KEY: 'a',
    };
    expect(resolveModelSetting(env, 'anthropic:claude-haiku-4-5')).toEqual({ model: 'anthropic:claude-haiku-4-5', baseUrl: 'https://anthropic.example/v1', apiKey: 'a' });
    expect(resolveModelSetting(env, 'openai:gpt-4o')).toEqual({ model: 'openai:gpt-4o', baseUrl: 'https://proxy.example/v1', apiKey: 'default-key', openaiStore: false });
  });

  it('prefers CONCIERGE_<PROVIDER>_API_KEY over the vendor variable and leaves a provider without a key keyless', () => {
    const env = { CONCIERGE_MODEL: 'scripted', CONCIERGE_ANTHROPIC_API_KEY: 'mine', ANTHROPIC_API_KEY: 'theirs', CONCIERGE_LLM_API_KEY: 'generic' };
    expect(resolveModelSetting(env, 'anthropic:claude-sonnet-4-5')).toEqual({ model: 'anthropic:claude-sonnet-4-5', apiKey: 'mine' });
    expect(resolveModelSetting(env, 'openai-compatible:llama3.2')).toEqual({ model: 'openai-compatible:llama3.2' });
  });

  it('stores OpenAI calls only when CONCIERGE_OPENAI_STORE is true', () => {
    expect(resolveModelSetting({ OPENAI_API_KEY: 'o', CONCIERGE_OPENAI_STORE: 'true' }).openaiStore).toBe(true);
  });
});
