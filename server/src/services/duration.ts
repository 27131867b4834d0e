const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses durations like `30m`, `1h`, `7d`, `90s` into milliseconds; undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  const match = /^([1-9][0-9]{0,5})([smhd])$/.exec(text.trim());
  if (!match) return undefined;
  return Number(match[1]) * UNIT_MS[match[2]!]!;
}
