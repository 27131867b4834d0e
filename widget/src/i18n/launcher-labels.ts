/** The loader's only strings (the app's table lives in en.ts / de.ts, outside the loader's bytes). */
export const LAUNCHER_LABELS: Record<string, { open: string; close: string }> = {
  en: { open: 'Open chat', close: 'Close chat' },
  de: { open: 'Chat öffnen', close: 'Chat schließen' },
};

/** Picks the launcher labels for a BCP 47 tag, falling back to English. */
export function toLauncherLabels(locale: string): { open: string; close: string } {
  return LAUNCHER_LABELS[locale.slice(0, 2).toLowerCase()] ?? LAUNCHER_LABELS.en!;
}
