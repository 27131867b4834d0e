import { describe, expect, it } from 'vitest';
import { resolveTemplateMap, resolveTemplates, UnresolvedTemplateError } from './resolve-templates.ts';
import { isToolIncluded } from './tool-filter.ts';

describe('resolveTemplates', () => {
  it('replaces every {{mcp.KEY}} with its value', () => {
    expect(resolveTemplates('Bearer {{mcp.TOKEN}} for {{ mcp.TENANT }}', { TOKEN: 't0k', TENANT: 'acme' })).toBe('Bearer t0k for acme');
    expect(resolveTemplateMap({ Authorization: 'Bearer {{mcp.TOKEN}}' }, { TOKEN: 'x' })).toEqual({ Authorization: 'Bearer x' });
  });

  it('throws naming the key when a placeholder has no value', () => {
    expect(() => resolveTemplates('{{mcp.MISSING}}', {})).toThrow(UnresolvedTemplateError);
    expect(() => resolveTemplates('{{mcp.MISSING}}', {})).toThrow(/MISSING/);
  });
});

describe('isToolIncluded', () => {
  it('keeps tools matching include globs and drops excluded ones', () => {
    const filter = { include: ['lookup_*'], exclude: ['lookup_secret*'] };
    expect(isToolIncluded('lookup_customer', filter)).toBe(true);
    expect(isToolIncluded('lookup_secret_key', filter)).toBe(false);
    expect(isToolIncluded('delete_customer', filter)).toBe(false);
    expect(isToolIncluded('anything', undefined)).toBe(true);
  });
});
