// Downloads screen: totals, Pause all / Resume all, and the virtualized list of rows (one store update per progress batch).
import { useCallback } from 'react';
import { VirtualList } from '../../components/VirtualList.tsx';
import { useI18n } from '../../i18n/index.ts';
import { useDownloads } from '../../state/downloads.ts';
import { useUi } from '../../state/ui.ts';
import { runAll } from './actions.ts';
import { DownloadRow, ROW_HEIGHT } from './DownloadRow.tsx';
import { segmentPanelHeight } from './SegmentPanel.tsx';

function Totals() {
  const { t, fmt } = useI18n();
  const totals = useDownloads((s) => s.totals);
  return (
    <dl className="totals" aria-live="off">
      <div>
        <dt>{t('downloads.totalSpeed')}</dt>
        <dd data-testid="total-speed">{fmt.speed(totals.speed)}</dd>
      </div>
      <div>
        <dt>{t('downloads.active')}</dt>
        <dd data-testid="total-active">{fmt.number(totals.active)}</dd>
      </div>
      <div>
        <dt>{t('downloads.queued')}</dt>
        <dd data-testid="total-queued">{fmt.number(totals.queued)}</dd>
      </div>
    </dl>
  );
}

function Empty() {
  const { t } = useI18n();
  const setScreen = useUi((s) => s.setScreen);
  return (
    <div className="empty-state">
      <h3>{t('downloads.emptyTitle')}</h3>
      <p>{t('downloads.emptyBody')}</p>
      <button type="button" className="primary" onClick={() => setScreen('add')}>
        {t('downloads.emptyAction')}
      </button>
    </div>
  );
}

export function DownloadsScreen() {
  const { t } = useI18n();
  const order = useDownloads((s) => s.order);
  const loaded = useDownloads((s) => s.loaded);
  const expanded = useUi((s) => s.expanded);
  // Only "any pausable?" / "any paused?" flips matter here, so these selectors rarely cause a render.
  const canPause = useDownloads((s) => s.totals.active + s.totals.queued > 0);
  const canResume = useDownloads((s) => s.totals.paused > 0);

  // Expanded rows grow with their segment count; this string changes only when a count does (a split), not per batch.
  const segmentCounts = useDownloads((s) => Object.keys(expanded).map((id) => `${id}:${s.byId[id]?.segments.length ?? 0}`).join(','));
  const heightOf = useCallback(
    (i: number) => {
      const id = order[i];
      return expanded[id] ? ROW_HEIGHT + segmentPanelHeight(useDownloads.getState().byId[id]?.segments.length ?? 0) : ROW_HEIGHT;
    },
    // segmentCounts stands for the heights read through getState().
    [expanded, order, segmentCounts],
  );
  const renderRow = useCallback(
    (i: number, top: number, height: number) => <DownloadRow key={order[i]} id={order[i]} top={top} height={height} index={i} count={order.length} />,
    [order],
  );

  return (
    <section className="screen downloads-screen" aria-labelledby="downloads-title">
      <div className="toolbar">
        <h2 id="downloads-title">{t('downloads.title')}</h2>
        <Totals />
        <div className="toolbar-actions">
          <button type="button" onClick={() => runAll('pauseAll')} disabled={!canPause}>
            {t('downloads.pauseAll')}
          </button>
          <button type="button" onClick={() => runAll('resumeAll')} disabled={!canResume}>
            {t('downloads.resumeAll')}
          </button>
        </div>
      </div>
      {loaded && order.length === 0 ? (
        <Empty />
      ) : (
        <VirtualList
          className="downloads-list"
          label={t('downloads.listLabel')}
          count={order.length}
          rowHeight={ROW_HEIGHT}
          heightOf={Object.keys(expanded).length ? heightOf : undefined}
          heightKey={heightOf}
          renderRow={renderRow}
        />
      )}
    </section>
  );
}
