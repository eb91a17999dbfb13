// The expanded part of a download row: a map of the file with every segment placed on it, then one live bar per segment.
import { memo } from 'react';
import type { DownloadView, SegmentView } from '../../../../shared/contract.ts';
import { ProgressBar } from '../../components/ProgressBar.tsx';
import { useI18n } from '../../i18n/index.ts';

const PANEL_CHROME = 60;
const SEGMENT_LINE = 22;

/**
 * The panel's height for n segments, known before rendering so the windowed list can place rows. Sized for two
 * bars per line (what fits at the 800 px minimum); past six lines the panel scrolls inside itself.
 */
export function segmentPanelHeight(n: number): number {
  return PANEL_CHROME + SEGMENT_LINE * Math.min(6, Math.max(1, Math.ceil(n / 2)));
}

function SegmentMap({ segments, size }: { segments: SegmentView[]; size: number }) {
  if (size <= 0) return null;
  return (
    // Decorative: the bars below carry the same facts for assistive technology.
    <div className="segment-map" aria-hidden="true">
      {segments.map((s) => (
        <div key={s.start} className="segment-map-part" style={{ left: `${(s.start / size) * 100}%`, width: `${((s.end - s.start) / size) * 100}%` }}>
          <div
            className={`segment-map-fill${s.active ? ' active' : ''}`}
            style={{ transform: `scaleX(${s.end > s.start ? (s.offset - s.start) / (s.end - s.start) : 1})` }}
          />
        </div>
      ))}
    </div>
  );
}

export const SegmentPanel = memo(function SegmentPanel({ download, id }: { download: DownloadView; id: string }) {
  const { t, tn, fmt } = useI18n();
  // Splits append segments out of place; the bars read left to right through the file.
  const segments = [...download.segments].sort((a, b) => a.start - b.start);
  const size = download.sizeBytes ?? (segments.length ? segments[segments.length - 1].end : 0);
  return (
    <div className="segment-panel" id={id} style={{ height: segmentPanelHeight(segments.length) - 8 }}>
      {segments.length === 0 ? (
        <p className="muted">{t('downloads.noSegments')}</p>
      ) : (
        <>
          <div className="segment-head muted">{tn('downloads.segments', segments.length)}</div>
          <SegmentMap segments={segments} size={size} />
          <ol className="segment-list">
            {segments.map((s, i) => {
              const len = s.end - s.start;
              const done = s.offset - s.start;
              return (
                <li key={s.start} className={`segment${s.active ? ' segment-active' : ''}`}>
                  <span className="segment-index">#{i + 1}</span>
                  <ProgressBar
                    size="small"
                    value={done}
                    max={len}
                    tone={s.active ? 'normal' : done >= len ? 'done' : 'idle'}
                    label={t('downloads.segment', { n: i + 1, count: segments.length })}
                    valueText={t('downloads.of', { done: fmt.bytes(done), total: fmt.bytes(len) })}
                  />
                  <span className="segment-range muted">
                    {fmt.bytes(s.start)}–{fmt.bytes(s.end)}
                  </span>
                </li>
              );
            })}
          </ol>
        </>
      )}
    </div>
  );
});
