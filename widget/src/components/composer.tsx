import { useEffect, useRef } from 'preact/hooks';
import type { ChatModel } from '../models/chat-model.ts';
import { Icon } from './icons.tsx';

/** The message box: Enter sends, Shift+Enter adds a line; while the agent works it offers Stop. */
export function Composer({ model, placeholder }: { model: ChatModel; placeholder: string }) {
  const { t } = model;
  const phase = model.store.phase.value;
  const busy = model.store.busy.value;
  const text = model.draft.value;
  const files = model.attachments.value;
  const textarea = useRef<HTMLTextAreaElement>(null);
  const stopButton = useRef<HTMLButtonElement>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const hadFocus = useRef(false);

  // Disabling the textarea (or removing Stop) drops focus; keep keyboard users on the control that
  // replaces it, unless they have since moved focus somewhere else.
  useEffect(() => {
    if (!hadFocus.current) return;
    const active = (textarea.current?.getRootNode() as ShadowRoot | Document | undefined)?.activeElement;
    if (active && active.closest('.cc-composer') === null) return;
    if (busy) stopButton.current?.focus();
    else textarea.current?.focus();
  }, [busy]);

  // A conversation the visitor started or picked: they will type next.
  const wantsFocus = model.composerFocus.value;
  useEffect(() => {
    if (!wantsFocus || busy) return;
    model.composerFocus.value = false;
    textarea.current?.focus();
  }, [wantsFocus, busy]);

  const onFocusIn = () => {
    hadFocus.current = true;
  };
  // Focus that goes nowhere (relatedTarget null) is the composer's own doing: a control was disabled
  // or removed. Only a move to another control outside the composer ends "the visitor is typing here".
  const onFocusOut = (event: FocusEvent) => {
    const next = event.relatedTarget as Node | null;
    if (next && !(event.currentTarget as HTMLElement).contains(next)) hadFocus.current = false;
  };

  const submit = (event?: Event) => {
    event?.preventDefault();
    hadFocus.current = true;
    void model.send();
  };

  return (
    <form class="cc-composer" onSubmit={submit} onFocusIn={onFocusIn} onFocusOut={onFocusOut}>
      {files.length > 0 && (
        <ul class="cc-chips" aria-label={t('attachedFiles')}>
          {files.map((file, index) => (
            <li key={`${file.name}-${index}`}>
              <span>{file.name}</span>
              <button
                type="button"
                class="cc-icon-button cc-small"
                aria-label={t('removeFile', { name: file.name })}
                onClick={() => model.removeFile(file)}
              >
                <Icon name="close" />
              </button>
            </li>
          ))}
        </ul>
      )}
      <div class="cc-row">
        <button
          type="button"
          class="cc-icon-button"
          aria-label={t('attach')}
          title={t('attach')}
          disabled={busy}
          onClick={() => fileInput.current?.click()}
        >
          <Icon name="attach" />
        </button>
        <input
          ref={fileInput}
          type="file"
          multiple
          hidden
          tabIndex={-1}
          aria-hidden="true"
          onChange={(event) => {
            const input = event.currentTarget;
            if (input.files) model.addFiles(Array.from(input.files));
            input.value = '';
          }}
        />
        <textarea
          ref={textarea}
          class="cc-input"
          rows={1}
          aria-label={placeholder || t('composerLabel')}
          placeholder={placeholder}
          value={text}
          disabled={busy}
          onInput={(event) => {
            model.draft.value = event.currentTarget.value;
          }}
          onKeyDown={(event) => {
            if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) submit(event);
          }}
        />
        {busy && phase !== 'loading' ? (
          <button ref={stopButton} type="button" class="cc-button cc-stop" onClick={() => void model.stop()}>
            <Icon name="stop" />
            {t('stop')}
          </button>
        ) : (
          <button
            type="submit"
            class="cc-icon-button cc-send"
            aria-label={t('send')}
            title={t('send')}
            disabled={busy || (!text.trim() && files.length === 0)}
          >
            <Icon name="send" />
          </button>
        )}
      </div>
    </form>
  );
}
