// The right side of the Archive: one month's files (or search results), virtualized and paged, with search, sort and verify.
import { memo, useCallback, useEffect, useState } from 'react';
import type { ArchiveEntryView } from '../../../../shared/contract.ts';
import { getBridge } from '../../bridge/index.ts';
import { VirtualList } from '../../components/VirtualList.tsx';
import { useI18n } from '../../i18n/index.ts';
import { useArchive, type ArchiveSort } from '../../state/archive.ts';
import { reportError } from '../../state/notices.ts';
import { usePagedEntries, type FetchPage } from './usePagedEntries.ts';
import { VerifyReport } from './VerifyReport.tsx';

const ROW_HEIGHT = 52;

function DesktopButton({ label, action, path }: { label: string; action: ((path: string) => Promise<void>) | null; path: string }) {
  const { t } = useI18n();
  if (!action) {
    // The title sits on a wrapper: disabled buttons get no pointer events, so their own tooltip would never show.
    return (
      <span title={t('archive.desktopOnly')}>
        <button type="button" disabled>
          {label}
        </button>
      </span>
    );
  }
  return (
    <button type="button" onClick={() => action(path).catch(reportError)}>
      {label}
    </button>
  );
}

const EntryRow = memo(function EntryRow({ entry, top, index, count }: { entry: ArchiveEntryView | undefined; top: number; index: number; count: number }) {
  const { t, fmt } = useI18n();
  const bridge = getBridge();
  const style = { transform: `translateY(${top}px)`, height: ROW_HEIGHT };
  if (!entry) {
    return (
      <div role="listitem" aria-posinset={index + 1} aria-setsize={count} aria-busy="true" className="entry-row placeholder" style={style}>
        <span className="muted">{t('common.loading')}</span>
      </div>
    );
  }
  return (
    <div role="listitem" aria-label={entry.filename} aria-posinset={index + 1} aria-setsize={count} className="entry-row" style={style}>
      <div className="entry-name">
        <span className="cell-strong" title={entry.path}>
          {entry.filename}
        </span>
        <span className="muted mono" title={entry.sha256}>
          {entry.path}
        </span>
      </div>
      <span className="entry-size">{fmt.bytes(entry.sizeBytes)}</span>
      <span className="entry-date muted">{t('archive.downloadedAt', { date: fmt.date(entry.downloadedAt) })}</span>
      <span className="entry-badges">{entry.encrypted && <span className="badge">{t('archive.encrypted')}</span>}</span>
      {bridge.door === 'electron' && (
        <span className="entry-actions">
          <DesktopButton label={t('archive.open')} action={bridge.openPath} path={entry.path} />
          <DesktopButton label={t('archive.showInFolder')} action={bridge.showInFolder} path={entry.path} />
        </span>
      )}
    </div>
  );
});

/** Typing updates the box at once but asks the engine only once the user pauses. */
function SearchBox() {
  const { t } = useI18n();
  const setQuery = useArchive((s) => s.setQuery);
  const [text, setText] = useState(useArchive.getState().query);
  useEffect(() => {
    const timer = setTimeout(() => setQuery(text.trim()), 250);
    return () => clearTimeout(timer);
  }, [text, setQuery]);
  return (
    <input
      type="search"
      className="search-input"
      value={text}
      onChange={(e) => setText(e.target.value)}
      placeholder={t('archive.search')}
      aria-label={t('archive.search')}
    />
  );
}

export function FilesPanel() {
  const { t, tn } = useI18n();
  const { month, sort, query, scope, revision, verify, setSort, setScope, runVerify } = useArchive();
  const api = getBridge().api;
  const searching = query !== '';
  const searchMonth = scope === 'month' ? (month ?? undefined) : undefined;
  const key = searching ? `search|${searchMonth ?? '*'}|${query}|${revision}` : month ? `month|${month}|${sort}|${revision}` : null;
  const fetchPage: FetchPage = searching
    ? (offset, limit) => api.request('search', { text: query, month: searchMonth, offset, limit })
    : (offset, limit) => api.request('archiveFiles', { month: month ?? '', offset, limit, sort });
  const paged = usePagedEntries(key, fetchPage);
  const count = paged.total ?? 0;
  const onRange = useCallback((start: number, end: number) => paged.ensure(start, end), [paged.ensure]);
  const renderRow = (i: number, top: number) => <EntryRow key={i} entry={paged.entryAt(i)} top={top} index={i} count={count} />;
  const v = month ? verify[month] : undefined;

  return (
    <section className="files-panel" aria-labelledby="files-title">
      <div className="toolbar">
        <h3 id="files-title">{searching ? t('archive.searchLabel') : month ? t('archive.filesLabel', { month }) : t('archive.title')}</h3>
        {paged.total !== null && <span className="muted">{searching ? tn('archive.matches', paged.total) : tn('archive.files', paged.total)}</span>}
        {month && (
          <button type="button" onClick={() => void runVerify(month)} disabled={v?.running}>
            {v?.running ? t('archive.verifying') : t('archive.verify')}
          </button>
        )}
      </div>
      <div className="filters">
        <SearchBox />
        {month && (
          <label className="inline-field">
            {t('archive.scope')}
            <select value={scope} onChange={(e) => setScope(e.target.value as 'month' | 'all')}>
              <option value="month">{t('archive.scopeMonth')}</option>
              <option value="all">{t('archive.scopeAll')}</option>
            </select>
          </label>
        )}
        {!searching && month && (
          <label className="inline-field">
            {t('archive.sort')}
            <select value={sort} onChange={(e) => setSort(e.target.value as ArchiveSort)}>
              <option value="name">{t('archive.sortName')}</option>
              <option value="downloaded">{t('archive.sortDownloaded')}</option>
              <option value="size">{t('archive.sortSize')}</option>
            </select>
          </label>
        )}
      </div>
      {v?.report && month && <VerifyReport report={v.report} />}
      {v?.error && (
        <p className="error-text" role="alert">
          {t('common.failed', { message: v.error })}
        </p>
      )}
      {paged.error && (
        <p className="error-text" role="alert">
          {t('common.failed', { message: paged.error })}
        </p>
      )}
      {key === null ? (
        <p className="empty-state muted">{t('archive.chooseMonth')}</p>
      ) : (
        <VirtualList
          className="entries-list"
          label={searching ? t('archive.searchLabel') : t('archive.filesLabel', { month: month ?? '' })}
          count={count}
          rowHeight={ROW_HEIGHT}
          renderRow={renderRow}
          onRangeChange={onRange}
        />
      )}
    </section>
  );
}
