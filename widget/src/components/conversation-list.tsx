import type { ChatModel } from '../models/chat-model.ts';

/** Earlier conversations (tasks shown in history); picking one reopens it with its history. */
export function ConversationList({ model, locale }: { model: ChatModel; locale: string }) {
  const { t } = model;
  const tasks = model.tasks.value;
  const current = model.taskId.value;
  const format = (iso: string) => {
    try {
      return new Date(iso).toLocaleString(locale, { dateStyle: 'medium', timeStyle: 'short' });
    } catch {
      return iso;
    }
  };
  return (
    <nav class="cc-list" aria-label={t('conversations')}>
      <h3>{t('conversations')}</h3>
      <button type="button" class="cc-button" onClick={model.newConversation}>
        {t('newConversation')}
      </button>
      {tasks === null ? (
        <p class="cc-status">{t('loading')}</p>
      ) : tasks.length === 0 ? (
        <p class="cc-status">{t('noConversations')}</p>
      ) : (
        <ul>
          {tasks.map((task) => (
            <li key={task.id}>
              <button
                type="button"
                class="cc-conversation"
                aria-current={task.id === current ? 'true' : undefined}
                onClick={() => model.openConversation(task.id)}
              >
                <span class="cc-conversation-title">{task.message}</span>
                <span class="cc-muted">{format(task.lastActivityAt)}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </nav>
  );
}
