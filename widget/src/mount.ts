import { h, render } from 'preact';
import { createApiClient } from './api/api-client.ts';
import { createTokenManager } from './api/token-manager.ts';
import { App } from './components/app.tsx';
import { createTranslator, toLanguage } from './i18n/translate.ts';
import { createChatModel } from './models/chat-model.ts';
import { createWidgetStorage } from './models/widget-storage.ts';
import appCss from './styles/app.css?inline';
import type { ResolvedConfig } from './widget-config.ts';

export interface MountOptions {
  shadow: ShadowRoot;
  /** The element inside the shadow root the panel renders into. */
  slot: HTMLElement;
  config: ResolvedConfig;
  adoptStyles(root: ShadowRoot, css: string): void;
  /** Called when the visitor closes the panel (close button or Escape). */
  onClose(): void;
}

/** What the loader controls once the app chunk is in. */
export interface MountedApp {
  setOpen(open: boolean): void;
  destroy(): void;
}

/** Renders the chat app into the shadow root; the loader calls this after importing the chunk. */
export function mount(options: MountOptions): MountedApp {
  const { shadow, slot, config } = options;
  options.adoptStyles(shadow, appCss);
  const t = createTranslator(config.locale);
  const tokens = createTokenManager({
    ...(config.token ? { token: config.token } : {}),
    ...(typeof config.fetchToken === 'function' ? { fetchToken: config.fetchToken } : {}),
  });
  const api = createApiClient({ host: config.host, tokens });
  const model = createChatModel({ api, storage: createWidgetStorage(config.host), t });
  if (!config.token && typeof config.fetchToken !== 'function') model.unavailable.value = true;
  model.start();
  render(
    h(App, { model, config, language: toLanguage(config.locale), ...(config.inline ? {} : { onClose: options.onClose }) }),
    slot,
  );
  const focusComposer = () => {
    const textarea = slot.querySelector<HTMLTextAreaElement>('.cc-input');
    if (textarea && !textarea.disabled) textarea.focus();
    else slot.querySelector<HTMLElement>('.cc-panel button')?.focus();
  };
  return {
    setOpen(open) {
      if (open) requestAnimationFrame(focusComposer);
    },
    destroy() {
      model.dispose();
      tokens.dispose();
      render(null, slot);
    },
  };
}
