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
    expect(resolveModelSetting({ OPENAI_API_KEY: 'o' })).toEqual({ model: 'openai:gpt-4o-mini', apiKey: 'o' });
  });

  it('uses CONCIERGE_MODEL with the provider key of that provider', () => {
    expect(resolveModelSetting({ CONCIERGE_MODEL: 'openai:gpt-4.1', ANTHROPIC_API_KEY: 'a', OPENAI_API_KEY: 'o' })).toEqual({
      model: 'openai:gpt-4.1',
      apiKey: 'o',
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
});
