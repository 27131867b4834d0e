const PLACEHOLDER = /\{\{\s*mcp\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/** A `{{mcp.KEY}}` placeholder with no value in the task's env or secrets. */
export class UnresolvedTemplateError extends Error {
  override name = 'UnresolvedTemplateError';
}

/** Replaces `{{mcp.KEY}}` with the value of KEY; throws naming the first key without a value. */
export function resolveTemplates(text: string, values: Readonly<Record<string, string>>): string {
  return text.replace(PLACEHOLDER, (_match, key: string) => {
    const value = values[key];
    if (value === undefined) throw new UnresolvedTemplateError(`{{mcp.${key}}} has no value: set ${key} in the task's or end user's env or secrets`);
    return value;
  });
}

/** `resolveTemplates` over every value of a string map. */
export function resolveTemplateMap(map: Readonly<Record<string, string>> | undefined, values: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(map ?? {}).map(([key, value]) => [key, resolveTemplates(value, values)]));
}
