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

  // Disabling the textarea drops focus; keep keyboard users on the control that replaces it.
  useEffect(() => {
    if (!hadFocus.current) return;
    if (busy) stopButton.current?.focus();
    else textarea.current?.focus();
  }, [busy]);

  const trackFocus = () => {
    const root = textarea.current?.getRootNode() as ShadowRoot | Document | undefined;
    const active = root?.activeElement;
    hadFocus.current = active === textarea.current || active === stopButton.current;
  };

  const submit = (event?: Event) => {
    event?.preventDefault();
    hadFocus.current = true;
    void model.send();
  };

  return (
    <form class="cc-composer" onSubmit={submit} onFocusIn={trackFocus} onFocusOut={() => setTimeout(trackFocus)}>
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
