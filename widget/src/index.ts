/**
 * The script-tag entry (`concierge.js`): reads `window.ConciergeChat`, draws the launcher inside an
 * open shadow root and imports the app chunk on first open or when the browser is idle.
 * Runs as a classic script, so no static imports of shared modules and no `import.meta` here.
 */
import { toLauncherLabels } from './i18n/launcher-labels.ts';
import baseCss from './styles/base.css?inline';
import { toThemeProperties } from './theme.ts';
import type { ConciergeGlobal, ResolvedConfig } from './widget-config.ts';
import type { MountedApp } from './mount.ts';

/** Replaced at build time by the hashed app chunk's file name (vite.config.ts). */
declare const __CONCIERGE_APP_FILE__: string;

declare global {
  interface Window {
    ConciergeChat?: ConciergeGlobal;
  }
}

const CHAT_ICON =
  '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z"/></svg>';
const CLOSE_ICON =
  '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M18.3 5.7 12 12l6.3 6.3-1.4 1.4L10.6 13.4 4.3 19.7 2.9 18.3 9.2 12 2.9 5.7l1.4-1.4 6.3 6.3 6.3-6.3z"/></svg>';

const scriptUrl = (document.currentScript as HTMLScriptElement | null)?.src || location.href;
const appUrl = new URL(__CONCIERGE_APP_FILE__, scriptUrl).href;
const importApp = (): Promise<typeof import('./app.ts')> => import(/* @vite-ignore */ appUrl);

/** Applies a stylesheet to a shadow root: constructable sheet when supported, else a <style> in it. */
function adoptStyles(root: ShadowRoot, css: string): void {
  try {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];
  } catch {
    const style = document.createElement('style');
    style.textContent = css;
    root.prepend(style);
  }
}

function start(global: ConciergeGlobal): void {
  const container = global.container ? document.querySelector(global.container) : null;
  const config: ResolvedConfig = {
    ...(global as ResolvedConfig),
    host: (global.host || new URL(scriptUrl).origin).replace(/\/+$/, ''),
    locale: global.locale || navigator.language || 'en',
    open: global.open === true,
    inline: container !== null,
  };
  const labels = toLauncherLabels(config.locale);
  const hostElement = document.createElement('concierge-chat');
  const properties = toThemeProperties(config.theme);
  for (const name in properties) hostElement.style.setProperty(name, properties[name]!, 'important');
  hostElement.setAttribute('data-scheme', config.theme?.colorScheme ?? 'light');
  hostElement.setAttribute('data-position', config.position === 'bottom-left' ? 'bottom-left' : 'bottom-right');
  if (config.inline) hostElement.setAttribute('data-inline', '');
  const shadow = hostElement.attachShadow({ mode: 'open' });
  adoptStyles(shadow, baseCss);

  const slot = document.createElement('div');
  slot.className = 'cc-slot';
  let launcher: HTMLButtonElement | null = null;
  let app: MountedApp | null = null;
  let loading: Promise<MountedApp> | null = null;
  let isOpen = false;
  let destroyed = false;

  const load = (): Promise<MountedApp> => {
    loading ??= importApp().then((module) => {
      if (destroyed) throw new Error('Concierge widget was destroyed while loading');
      app = module.mount({ shadow, slot, config, adoptStyles, onClose: () => setOpen(false, true) });
      return app;
    });
    loading.catch(() => {
      loading = null;
    });
    return loading;
  };

  const setOpen = (next: boolean, returnFocus = false): void => {
    if (destroyed || config.inline) return;
    isOpen = next;
    slot.hidden = !next;
    if (launcher) {
      launcher.setAttribute('aria-expanded', String(next));
      launcher.setAttribute('aria-label', next ? labels.close : labels.open);
      launcher.innerHTML = next ? CLOSE_ICON : CHAT_ICON;
      if (!next && returnFocus) launcher.focus();
    }
    if (next) void load().then((mounted) => isOpen && mounted.setOpen(true));
    else app?.setOpen(false);
  };

  let cancelPreload = (): void => undefined;
  if (config.inline) {
    shadow.append(slot);
    container!.append(hostElement);
    void load();
  } else {
    launcher = document.createElement('button');
    launcher.type = 'button';
    launcher.className = 'cc-launcher';
    launcher.setAttribute('aria-haspopup', 'dialog');
    launcher.addEventListener('click', () => setOpen(!isOpen));
    slot.hidden = true;
    shadow.append(slot, launcher);
    document.body.append(hostElement);
    setOpen(config.open === true);
    const preload = () => void importApp().catch(() => undefined);
    if (typeof requestIdleCallback === 'function') {
      const handle = requestIdleCallback(preload, { timeout: 5000 });
      cancelPreload = () => cancelIdleCallback(handle);
    } else {
      const handle = setTimeout(preload, 3000);
      cancelPreload = () => clearTimeout(handle);
    }
  }

  Object.assign(global, {
    open: () => setOpen(true),
    close: () => setOpen(false),
    destroy: () => {
      if (destroyed) return;
      cancelPreload();
      app?.destroy();
      destroyed = true;
      hostElement.remove();
    },
  });
}

window.ConciergeChat ??= {};
const global = window.ConciergeChat;
if (document.body) start(global);
else document.addEventListener('DOMContentLoaded', () => start(global), { once: true });
