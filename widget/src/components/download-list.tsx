import type { Artifact } from '@concierge/shared';
import type { ChatModel } from '../models/chat-model.ts';

function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** Files the agent wrote to `downloads/`; each is fetched with the token, then saved from a blob URL. */
export function DownloadList({ model }: { model: ChatModel }) {
  const files = model.downloads.value;
  if (files.length === 0) return null;
  const { t } = model;
  const save = async (file: Artifact) => {
    const blob = await model.fetchDownload(file);
    if (!blob) return;
    const url = URL.createObjectURL(blob);
    const anchor = document.createElement('a');
    anchor.href = url;
    anchor.download = file.name;
    anchor.rel = 'noopener';
    anchor.click();
    setTimeout(() => URL.revokeObjectURL(url), 30_000);
  };
  return (
    <section class="cc-downloads" aria-label={t('downloads')}>
      <h3>{t('downloads')}</h3>
      <ul>
        {files.map((file) => (
          <li key={file.path}>
            <button
              type="button"
              class="cc-link"
              aria-label={t('download', { name: file.name })}
              onClick={() => void save(file)}
            >
              {file.name}
            </button>{' '}
            <span class="cc-muted">{formatSize(file.size)}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}
