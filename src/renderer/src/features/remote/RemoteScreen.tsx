// Remote files: the account's files page by page; click rows to select, "Download selected" (or a row's Download) queues them.
import { memo, useCallback, useEffect, type MouseEvent } from 'react';
import type { RemoteFileView } from '../../../../shared/contract.ts';
import { getBridge } from '../../bridge/index.ts';
import { VirtualList } from '../../components/VirtualList.tsx';
import { i18nFor, useI18n } from '../../i18n/index.ts';
import { useDownloads } from '../../state/downloads.ts';
import { reportError, useNotices } from '../../state/notices.ts';
import { useRemote } from '../../state/remote.ts';
import { useUi } from '../../state/ui.ts';

const ROW_HEIGHT = 56;

async function queue(ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  const { t, tn } = i18nFor(useUi.getState().locale);
  try {
    const reply = await getBridge().api.request('add', { inputs: ids });
    useDownloads.getState().merge(reply.added);
    const push = useNotices.getState().push;
    if (reply.added.length) push('info', tn('remote.queued', reply.added.length));
    for (const e of reply.errors) push('error', `${e.input}: ${e.error}`);
    useRemote.getState().clearSelection();
  } catch (e) {
    reportError(new Error(t('common.failed', { message: e instanceof Error ? e.message : String(e) })));
  }
}

const RemoteRow = memo(function RemoteRow({ file, top, selected, index, count }: { file: RemoteFileView; top: number; selected: boolean; index: number; count: number }) {
  const { t, fmt } = useI18n();
  const toggle = useRemote((s) => s.toggle);
  const blocked = file.downloadable === false;
  // A click anywhere on the row selects it, except on its own controls.
  const onClick = (e: MouseEvent): void => {
    if (!blocked && !(e.target as HTMLElement).closest('button, input, label')) toggle(file.id);
  };
  return (
    <div
      role="listitem"
      aria-label={file.filename}
      aria-posinset={index + 1}
      aria-setsize={count}
      className={`remote-row${selected ? ' selected' : ''}${blocked ? ' blocked' : ''}`}
      style={{ transform: `translateY(${top}px)`, height: ROW_HEIGHT }}
      onClick={onClick}
    >
      <input
        type="checkbox"
        checked={selected}
        disabled={blocked}
        onChange={() => toggle(file.id)}
        aria-label={t('remote.select', { name: file.filename })}
      />
      <div className="remote-name">
        <span className="cell-strong" title={file.filename}>
          {file.filename}
        </span>
        <span className="muted mono">{file.id}</span>
      </div>
      <span className="remote-size">{fmt.bytes(file.sizeBytes)}</span>
      <span className="remote-date muted">{fmt.dateTime(file.createdAt)}</span>
      <span className="remote-badges">
        {file.archived && <span className="badge badge-ok">{t('remote.archived')}</span>}
        {blocked && <span className="badge badge-warn">{t('remote.notDownloadable')}</span>}
      </span>
      <button type="button" disabled={blocked} onClick={() => void queue([file.id])} aria-label={`${t('remote.download')} ${file.filename}`}>
        {t('remote.download')}
      </button>
    </div>
  );
});

export function RemoteScreen() {
  const { t, tn } = useI18n();
  const { files, nextCursor, loaded, loading, error, selected, refresh, loadMore, selectAll, clearSelection } = useRemote();
  const selectedIds = Object.keys(selected);

  useEffect(() => {
    if (!useRemote.getState().loaded) void refresh();
  }, [refresh]);

  // Scrolling near the end fetches the next page, so paging is invisible to mouse users too.
  const onRange = useCallback(
    (_start: number, end: number) => {
      if (end >= files.length - 5) void loadMore();
    },
    [files.length, loadMore],
  );
  const renderRow = useCallback(
    (i: number, top: number) => <RemoteRow key={files[i].id} file={files[i]} top={top} selected={selected[files[i].id] === true} index={i} count={files.length} />,
    [files, selected],
  );

  return (
    <section className="screen remote-screen" aria-labelledby="remote-title">
      <div className="toolbar">
        <h2 id="remote-title">{t('remote.title')}</h2>
        <span className="muted">
          {tn('remote.loaded', files.length)}
          {nextCursor ? ` · ${t('remote.more')}` : ''}
        </span>
        <div className="toolbar-actions">
          <button type="button" className="primary" disabled={selectedIds.length === 0} onClick={() => void queue(selectedIds)}>
            {t('remote.downloadSelected', { n: selectedIds.length })}
          </button>
          <button type="button" onClick={selectedIds.length ? clearSelection : selectAll} disabled={files.length === 0}>
            {selectedIds.length ? t('remote.clearSelection') : t('remote.selectAll')}
          </button>
          <button type="button" onClick={() => void refresh()} disabled={loading}>
            {t('common.refresh')}
          </button>
        </div>
      </div>
      <p className="hint">{t('remote.hint')}</p>
      {error && (
        <p className="error-text" role="alert">
          {t('common.failed', { message: error })}{' '}
          <button type="button" className="link-button" onClick={() => void (files.length ? loadMore() : refresh())}>
            {t('common.tryAgain')}
          </button>
        </p>
      )}
      {loaded && files.length === 0 && !error ? (
        <p className="empty-state">{t('remote.empty')}</p>
      ) : (
        <VirtualList className="remote-list" label={t('remote.listLabel')} count={files.length} rowHeight={ROW_HEIGHT} renderRow={renderRow} onRangeChange={onRange} />
      )}
      <div className="list-footer">
        {loading && <span className="muted">{t('common.loading')}</span>}
        {nextCursor && !loading && (
          <button type="button" onClick={() => void loadMore()}>
            {t('remote.loadMore')}
          </button>
        )}
      </div>
    </section>
  );
}
