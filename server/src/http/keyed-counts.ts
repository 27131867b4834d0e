/** How many of something each key holds (open streams, uploads, catch-ups); keys back at zero are forgotten. */
export function createKeyedCounts() {
  const counts = new Map<string, number>();
  return {
    get: (key: string): number => counts.get(key) ?? 0,
    add(key: string, delta: number): void {
      const next = (counts.get(key) ?? 0) + delta;
      if (next <= 0) counts.delete(key);
      else counts.set(key, next);
    },
  };
}
