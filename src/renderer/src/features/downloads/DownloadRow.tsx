// One download row: subscribes to its own download, so a progress batch re-renders only the rows that are on screen.
import { memo } from 'react';
import { ProgressBar } from '../../components/ProgressBar.tsx';
import { useI18n } from '../../i18n/index.ts';
import { useDownloads } from '../../state/downloads.ts';
import { useUi } from '../../state/ui.ts';
import { runRowCommand } from './actions.ts';
import { actionsFor, displayName, etaSeconds, phaseOf, stateText, type Phase } from './describe.ts';
import { SegmentPanel } from './SegmentPanel.tsx';

export const ROW_HEIGHT = 88;

const TONE: Record<Phase, 'normal' | 'paused' | 'failed' | 'done' | 'idle'> = {
  queued: 'idle',
  connecting: 'normal',
  waiting: 'paused',
  downloading: 'normal',
  paused: 'paused',
  verifying: 'normal',
  done: 'done',
  failed: 'failed',
};

interface Props {
  id: string;
  top: number;
  height: number;
  index: number;
  count: number;
}

export const DownloadRow = memo(function DownloadRow({ id, top, height, index, count }: Props) {
  const d = useDownloads((s) => s.byId[id]);
  const expanded = useUi((s) => s.expanded[id] === true);
  const toggle = useUi((s) => s.toggleExpanded);
  const i18n = useI18n();
  if (!d) return null;
  const { t, tn, fmt } = i18n;
  const name = displayName(d);
  const phase = phaseOf(d, Date.now());
  const eta = etaSeconds(d);
  const actions = actionsFor(d);
  const total = d.sizeBytes;
  const done = d.state === 'done' && total !== null ? total : d.bytesDownloaded;
  const valueText =
    total !== null
      ? t('downloads.progressText', { percent: fmt.percent(total ? done / total : 1), done: fmt.bytes(done), total: fmt.bytes(total) })
      : t('downloads.progressUnknown', { done: fmt.bytes(done) });
  const panelId = `segments-${id}`;
  const moving = d.state === 'downloading';

  return (
    <div
      role="listitem"
      aria-label={name}
      aria-posinset={index + 1}
      aria-setsize={count}
      className={`dl-row phase-${phase}`}
      style={{ transform: `translateY(${top}px)`, height }}
      data-id={id}
    >
      <div className="dl-main" style={{ height: ROW_HEIGHT }}>
        <button
          type="button"
          className="icon-button expander"
          aria-expanded={expanded}
          aria-controls={expanded ? panelId : undefined}
          aria-label={t(expanded ? 'downloads.hideSegments' : 'downloads.showSegments', { name })}
          onClick={() => toggle(id)}
        >
          <span aria-hidden="true">{expanded ? '▾' : '▸'}</span>
        </button>
        <div className="dl-info">
          <div className="dl-line">
            <span className="dl-name" title={d.source}>
              {name}
            </span>
            <span className={`dl-state state-${phase}`} title={d.error ?? undefined}>
              {stateText(d, phase, i18n)}
            </span>
          </div>
          <ProgressBar value={done} max={total} label={t('downloads.progress')} valueText={valueText} tone={TONE[phase]} />
          <div className="dl-line dl-stats muted">
            <span>{total !== null ? t('downloads.of', { done: fmt.bytes(done), total: fmt.bytes(total) }) : `${fmt.bytes(done)} · ${t('downloads.sizeUnknown')}`}</span>
            {moving && <span>{fmt.speed(d.bytesPerSecond)}</span>}
            {eta !== null && <span>{t('downloads.eta', { time: fmt.duration(eta) })}</span>}
            {moving && <span>{tn('downloads.connections', d.connections)}</span>}
            {d.retryCount > 0 && <span>{tn('downloads.retries', d.retryCount)}</span>}
          </div>
        </div>
        <div className="dl-actions">
          {actions.pause && (
            <button type="button" onClick={() => runRowCommand('pause', id)}>
              {t('downloads.pause')}
            </button>
          )}
          {actions.resume && (
            <button type="button" onClick={() => runRowCommand('resume', id)}>
              {t('downloads.resume')}
            </button>
          )}
          {actions.retry && (
            <button type="button" onClick={() => runRowCommand('retry', id)}>
              {t('downloads.retry')}
            </button>
          )}
          {actions.cancel && (
            <button type="button" className="danger" onClick={() => runRowCommand('cancel', id)}>
              {t('downloads.cancel')}
            </button>
          )}
        </div>
      </div>
      {expanded && <SegmentPanel download={d} id={panelId} />}
    </div>
  );
});
