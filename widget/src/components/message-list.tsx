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
  const { t, store } = model;
  const phase = store.phase.value;
  const decisions = model.decisions.value;
  const scroller = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const lastTop = useRef(0);

  useLayoutEffect(() => {
    const element = scroller.current;
    if (element && stick.current) element.scrollTop = element.scrollHeight;
  });

  // Content also grows without a render: messages laid out lazily (content-visibility) take their real
  // height once near the viewport, images load. Keep a pinned view at the end through those too.
  useLayoutEffect(() => {
    const element = scroller.current;
    const content = element?.firstElementChild;
    if (!element || !content || typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(() => {
      if (stick.current) element.scrollTop = element.scrollHeight;
    });
    observer.observe(content);
    return () => observer.disconnect();
  }, []);

  const streaming = store.streamingMessage.value;
  const finished = store.finishedMessages.value;
  const unshownEnd = store.unshownEnd.value;
  const onApprove = model.approve;
  const working = phase === 'working' || phase === 'sending';
  // Read here (not only in DownloadList) so the list re-renders, and stays pinned, when files appear.
  const hasDownloads = model.downloads.value.length > 0;

  return (
    <div
      class="cc-scroll"
      ref={scroller}
      onScroll={(event) => {
        const element = event.currentTarget;
        // Only the visitor scrolling up unpins; growing content (a replayed history settling) never does.
        if (element.scrollHeight - element.scrollTop - element.clientHeight < STICK_THRESHOLD_PX) stick.current = true;
        else if (element.scrollTop < lastTop.current) stick.current = false;
        lastTop.current = element.scrollTop;
      }}
    >
      <div class="cc-scroll-content">
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
        {phase === 'loading' && <p class="cc-status">{t('loading')}</p>}
        {working && (
          <p class="cc-status cc-working">
            <span class="cc-dots" aria-hidden="true">
              <span />
              <span />
              <span />
            </span>
            {store.conversation.value.retrying ? t('retrying') : t('working')}
          </p>
        )}
        {unshownEnd && (
          <p class={unshownEnd.reason === 'failed' ? 'cc-status cc-error' : 'cc-status'}>
            {unshownEnd.reason === 'failed' ? t('failed', { message: unshownEnd.message }) : t('cancelled')}
          </p>
        )}
        {hasDownloads && !working && phase !== 'awaiting_approval' && <DownloadList model={model} />}
      </div>
    </div>
  );
}
