import type { ResolvedConfig } from '../widget-config.ts';
import type { ChatModel } from '../models/chat-model.ts';
import { Icon } from './icons.tsx';

/** Title, subtitle and logo, with the conversation list, new conversation and close buttons. */
export function Header({ model, config, onClose }: { model: ChatModel; config: ResolvedConfig; onClose?: () => void }) {
  const { t } = model;
  const listOpen = model.view.value === 'list';
  return (
    <header class="cc-header">
      {config.logoUrl && <img class="cc-logo" src={config.logoUrl} alt="" width={32} height={32} />}
      <div class="cc-titles">
        <h2 id="cc-title">{config.title || t('title')}</h2>
        {config.subtitle && <p>{config.subtitle}</p>}
      </div>
      <button
        type="button"
        class="cc-icon-button"
        aria-label={listOpen ? t('backToChat') : t('showConversations')}
        title={listOpen ? t('backToChat') : t('showConversations')}
        onClick={() => {
          if (listOpen) model.view.value = 'chat';
          else void model.showList();
        }}
      >
        <Icon name={listOpen ? 'back' : 'list'} />
      </button>
      <button
        type="button"
        class="cc-icon-button"
        aria-label={t('newConversation')}
        title={t('newConversation')}
        onClick={model.newConversation}
      >
        <Icon name="plus" />
      </button>
      {onClose && (
        <button type="button" class="cc-icon-button" aria-label={t('close')} title={t('close')} onClick={onClose}>
          <Icon name="close" />
        </button>
      )}
    </header>
  );
}
