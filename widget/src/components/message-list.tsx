import { useLayoutEffect, useRef } from 'preact/hooks';
import type { ChatModel } from '../models/chat-model.ts';
import { DownloadList } from './download-list.tsx';
import { MessageItem } from './message-item.tsx';

/** Pixels from the bottom within which new content keeps the view pinned to the end. */
const STICK_THRESHOLD_PX = 48;

/**
 * The transcript. Finished messages live in the `role="log"` region, so screen readers announce each
 * one once when it completes; the reply being streamed sits just below it, outside the live region.
 */
export function MessageList({ model, greeting }: { model: ChatModel; greeting: string }) {
  const { t } = model;
  const state = model.conversation.value;
  const decisions = model.decisions.value;
  const scroller = useRef<HTMLDivElement>(null);
  const stick = useRef(true);

  useLayoutEffect(() => {
    const element = scroller.current;
    if (element && stick.current) element.scrollTop = element.scrollHeight;
  });

  const last = state.messages[state.messages.length - 1];
  const streaming = last?.streaming ? last : null;
  const finished = streaming ? state.messages.slice(0, -1) : state.messages;
  const onApprove = model.approve;
  const working = state.phase === 'working' || state.phase === 'sending';
  // Read here (not only in DownloadList) so the list re-renders, and stays pinned, when files appear.
  const hasDownloads = model.downloads.value.length > 0;

  return (
    <div
      class="cc-scroll"
      ref={scroller}
      onScroll={(event) => {
        const element = event.currentTarget;
        stick.current = element.scrollHeight - element.scrollTop - element.clientHeight < STICK_THRESHOLD_PX;
      }}
    >
      <div class="cc-message cc-assistant">
        <div class="cc-bubble">{greeting}</div>
      </div>
      <div class="cc-log" role="log" aria-live="polite" aria-label={t('messages')}>
        {finished.map((message) => (
          <MessageItem key={message.id} message={message} decisions={decisions} t={t} onApprove={onApprove} />
        ))}
      </div>
      {streaming && (
        <div aria-busy="true">
          <MessageItem message={streaming} decisions={decisions} t={t} onApprove={onApprove} />
        </div>
      )}
      {state.phase === 'loading' && <p class="cc-status">{t('loading')}</p>}
      {working && (
        <p class="cc-status cc-working">
          <span class="cc-dots" aria-hidden="true">
            <span />
            <span />
            <span />
          </span>
          {t('working')}
        </p>
      )}
      {state.phase === 'failed' && (
        <p class="cc-status cc-error">{t('failed', { message: state.error?.message || state.error?.code || '' })}</p>
      )}
      {state.phase === 'cancelled' && <p class="cc-status">{t('cancelled')}</p>}
      {hasDownloads && !working && state.phase !== 'awaiting_approval' && <DownloadList model={model} />}
    </div>
  );
}
