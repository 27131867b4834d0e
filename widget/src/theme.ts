import type { WidgetTheme } from './widget-config.ts';

/** Relative luminance of a `#rgb`/`#rrggbb` colour (WCAG 2), or undefined for other syntaxes. */
export function toLuminance(color: string): number | undefined {
  let hex = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(color.trim())?.[1];
  if (!hex) return undefined;
  if (hex.length === 3) hex = hex.replace(/./g, '$&$&');
  const channel = (i: number) => {
    const c = Number.parseInt(hex!.slice(i, i + 2), 16) / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(0) + 0.7152 * channel(2) + 0.0722 * channel(4);
}

/** CSS custom properties for a theme; the text colour on the accent is picked for contrast. */
export function toThemeProperties(theme: WidgetTheme | undefined): Record<string, string> {
  const properties: Record<string, string> = {};
  if (!theme) return properties;
  if (typeof theme.accent === 'string' && theme.accent) {
    properties['--cc-accent'] = theme.accent;
    const luminance = toLuminance(theme.accent);
    // White text needs contrast >= 4.5: (1.05) / (L + 0.05) >= 4.5  <=>  L <= 0.183.
    if (luminance !== undefined) properties['--cc-on-accent'] = luminance > 0.183 ? '#111111' : '#ffffff';
  }
  if (typeof theme.radius === 'number') properties['--cc-radius'] = `${theme.radius}px`;
  else if (typeof theme.radius === 'string' && theme.radius) properties['--cc-radius'] = theme.radius;
  if (typeof theme.fontFamily === 'string' && theme.fontFamily) properties['--cc-font'] = theme.fontFamily;
  return properties;
}
