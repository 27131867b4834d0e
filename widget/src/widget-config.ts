/** `window.ConciergeChat` as the site owner writes it (docs/embedding.md lists every key). */
export interface WidgetConfig {
  host: string;
  token?: string;
  fetchToken?: () => Promise<string> | string;
  title?: string;
  subtitle?: string;
  logoUrl?: string;
  greeting?: string;
  placeholder?: string;
  position?: 'bottom-right' | 'bottom-left';
  theme?: WidgetTheme;
  locale?: string;
  open?: boolean;
  container?: string;
}

/** Visual options, turned into CSS custom properties on the shadow host. */
export interface WidgetTheme {
  accent?: string;
  radius?: string | number;
  fontFamily?: string;
  colorScheme?: 'light' | 'dark' | 'auto';
}

/** What the loader hands the app chunk: the config with defaults applied. */
export interface ResolvedConfig extends WidgetConfig {
  /** API base without a trailing slash, e.g. `https://concierge.example.com`. */
  host: string;
  locale: string;
  inline: boolean;
}

/** The global the embed snippet defines; the loader adds the control methods to it. */
export interface ConciergeGlobal extends Omit<Partial<WidgetConfig>, 'open'> {
  open?: boolean | (() => void);
  close?: () => void;
  destroy?: () => void;
}
