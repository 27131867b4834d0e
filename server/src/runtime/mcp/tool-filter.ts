function toRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
}

/** Whether an MCP tool is exposed: matches `include` (all when absent) and no `exclude` glob (`*` wildcards). */
export function isToolIncluded(name: string, filter: { include?: string[] | undefined; exclude?: string[] | undefined } | undefined): boolean {
  if (filter?.include && !filter.include.some((glob) => toRegExp(glob).test(name))) return false;
  return !(filter?.exclude ?? []).some((glob) => toRegExp(glob).test(name));
}
