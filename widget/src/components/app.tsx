import { useSignal } from '@preact/signals';
import type { ChatModel } from '../models/chat-model.ts';
import type { ResolvedConfig } from '../widget-config.ts';
import { Composer } from './composer.tsx';
import { ConversationList } from './conversation-list.tsx';
import { Header } from './header.tsx';
import { MessageList } from './message-list.tsx';

export interface AppProps {
  model: ChatModel;
  config: ResolvedConfig;
  language: string;
  /** Absent when inline: there is nothing to close. */
  onClose?: () => void;
}

const hasFiles = (event: DragEvent) => Array.from(event.dataTransfer?.types ?? []).includes('Files');

/** The chat panel: header, transcript or conversation list, composer, and a status live region. */
export function App({ model, config, language, onClose }: AppProps) {
  const { t } = model;
  const dragging = useSignal(false);
  const placeholder = config.placeholder || t('placeholder');
  return (
    // biome-ignore lint/a11y/noStaticElementInteractions: Escape and file drops apply to the whole panel.
    // biome-ignore lint/a11y/useAriaPropsSupportedByRole: the role is dialog or region, both take a label.
    <div
      class={`cc-panel${config.inline ? ' cc-inline' : ''}`}
      role={config.inline ? 'region' : 'dialog'}
      aria-labelledby="cc-title"
      lang={language}
      onKeyDown={(event) => {
        if (event.key === 'Escape' && onClose) {
          event.stopPropagation();
          onClose();
        }
      }}
      onDragOver={(event) => {
        if (!hasFiles(event)) return;
        event.preventDefault();
        dragging.value = true;
      }}
      onDragLeave={(event) => {
        if (event.currentTarget === event.target) dragging.value = false;
      }}
      onDrop={(event) => {
        if (!hasFiles(event)) return;
        event.preventDefault();
        dragging.value = false;
        model.addFiles(Array.from(event.dataTransfer?.files ?? []));
      }}
    >
      <Header model={model} config={config} onClose={onClose} />
      {model.unavailable.value ? (
        <div class="cc-unavailable">
          <p>{t('unavailable')}</p>
          <button type="button" class="cc-button" onClick={model.retry}>
            {t('retry')}
          </button>
        </div>
      ) : model.view.value === 'list' ? (
        <ConversationList model={model} locale={config.locale} />
      ) : (
        <>
          <MessageList model={model} greeting={config.greeting || t('greeting')} />
          {model.reconnecting.value && <p class="cc-notice">{t('reconnecting')}</p>}
          {model.notice.value && (
            <p class="cc-notice cc-error" role="alert">
              {model.notice.value}
            </p>
          )}
          <Composer model={model} placeholder={placeholder} />
        </>
      )}
      {dragging.value && (
        <div class="cc-dropzone" aria-hidden="true">
          {t('dropFiles')}
        </div>
      )}
      <div class="cc-sr-only" role="status" aria-live="polite">
        {model.announcement.value}
      </div>
    </div>
  );
}
