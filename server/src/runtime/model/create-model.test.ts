import { describe, expect, it } from 'vitest';
import { createModel } from './create-model.ts';
import { ModelConfigError } from './model-config-error.ts';

describe('createModel', () => {
  it('builds the scripted model from "scripted" alone', () => {
    const created = createModel({ model: 'scripted' });
    expect(created).toMatchObject({ provider: 'scripted', modelId: 'demo', label: 'scripted:demo' });
    expect(created.model.provider).toBe('scripted');
  });

  it('keeps the model id of "scripted:<id>"', () => {
    expect(createModel({ model: 'scripted:demo' }).modelId).toBe('demo');
    expect(createModel({ model: 'scripted:fast' }).model.modelId).toBe('fast');
  });

  it('builds an Anthropic model when given a key', () => {
    const created = createModel({ model: 'anthropic:claude-sonnet-4-5', apiKey: 'sk-ant-test' });
    expect(created).toMatchObject({ provider: 'anthropic', modelId: 'claude-sonnet-4-5', label: 'anthropic:claude-sonnet-4-5' });
    expect(created.model.provider).toMatch(/^anthropic/);
    expect(created.model.modelId).toBe('claude-sonnet-4-5');
  });

  it('builds an OpenAI model when given a key', () => {
    const created = createModel({ model: 'openai:gpt-4o-mini', apiKey: 'sk-test', baseUrl: 'http://127.0.0.1:1/v1' });
    expect(created).toMatchObject({ provider: 'openai', modelId: 'gpt-4o-mini' });
    expect(created.model.provider).toMatch(/^openai/);
  });

  it('builds an OpenAI-compatible chat model with a base URL and no key', () => {
    const created = createModel({ model: 'openai-compatible:llama3.2', baseUrl: 'http://127.0.0.1:11434/v1' });
    expect(created).toMatchObject({ provider: 'openai-compatible', modelId: 'llama3.2' });
    expect(created.model.provider).toBe('openai-compatible.chat');
  });

  it('keeps colons inside the model id', () => {
    expect(createModel({ model: 'openai-compatible:qwen2.5:7b', baseUrl: 'http://x/v1' }).modelId).toBe('qwen2.5:7b');
  });

  it('names the base URL variables when openai-compatible has no base URL', () => {
    expect(() => createModel({ model: 'openai-compatible:llama3.2' })).toThrow(/CONCIERGE_LLM_BASE_URL or CONCIERGE_OPENAI_COMPATIBLE_BASE_URL/);
  });

  it('lists the valid providers when the provider is unknown', () => {
    expect(() => createModel({ model: 'gemini:pro' })).toThrow(
      /unknown provider "gemini".*anthropic, openai, openai-compatible, scripted/,
    );
  });

  it('asks for a model id when only the provider is given', () => {
    expect(() => createModel({ model: 'openai', apiKey: 'k' })).toThrow(/no model id.*openai:<model id>/);
  });

  it('throws a ModelConfigError naming the key variables when an API key is missing', () => {
    expect(() => createModel({ model: 'anthropic:claude-sonnet-4-5' })).toThrow(ModelConfigError);
    expect(() => createModel({ model: 'anthropic:claude-sonnet-4-5' })).toThrow(/CONCIERGE_ANTHROPIC_API_KEY or ANTHROPIC_API_KEY \(or CONCIERGE_LLM_API_KEY/);
    expect(() => createModel({ model: 'openai:gpt-4o-mini' })).toThrow(/CONCIERGE_OPENAI_API_KEY or OPENAI_API_KEY/);
  });
});
