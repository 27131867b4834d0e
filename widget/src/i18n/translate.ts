import { de } from './de.ts';
import { en, type MessageKey } from './en.ts';

const TABLES: Record<string, typeof en> = { en, de };

/** Looks up a string and fills `{name}` parameters. */
export type Translate = (key: MessageKey, params?: Record<string, string | number>) => string;

/** Creates the lookup for a BCP 47 tag (`de-AT` uses `de`), falling back to English. */
export function createTranslator(locale: string): Translate {
  const table = TABLES[locale.slice(0, 2).toLowerCase()] ?? en;
  return (key, params) => {
    const text = table[key] ?? en[key];
    return params ? text.replace(/\{(\w+)\}/g, (match, name: string) => String(params[name] ?? match)) : text;
  };
}

/** The language actually used for a locale (for the `lang` attribute). */
export function toLanguage(locale: string): string {
  const language = locale.slice(0, 2).toLowerCase();
  return language in TABLES ? language : 'en';
}
