// A windowed list: only the rows in view (plus a little overscan) are in the DOM, so 100,000 rows cost what 20 do.
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, type ReactNode } from 'react';

interface Props {
  count: number;
  /** Height of every row, or of every row not named by heightOf. */
  rowHeight: number;
  /** Optional per-row heights (e.g. expanded rows); heightKey must change whenever its answers do. */
  heightOf?: (index: number) => number;
  heightKey?: unknown;
  overscan?: number;
  label: string;
  className?: string;
  /** Renders one row at `top` px; the row positions itself so memoized rows keep stable props. */
  renderRow: (index: number, top: number, height: number) => ReactNode;
  /** The rows in view changed: [start, end). Used to fetch pages lazily. */
  onRangeChange?: (start: number, end: number) => void;
}

/** Prefix offsets: offsets[i] is where row i starts; offsets[count] is the total height. */
function buildOffsets(count: number, heightOf: (i: number) => number): Float64Array {
  const offsets = new Float64Array(count + 1);
  for (let i = 0; i < count; i++) offsets[i + 1] = offsets[i] + heightOf(i);
  return offsets;
}

/** Last row starting at or before y. */
function rowAt(offsets: Float64Array, count: number, y: number): number {
  let lo = 0;
  let hi = count - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (offsets[mid] <= y) lo = mid;
    else hi = mid - 1;
  }
  return Math.max(0, lo);
}

export function VirtualList({ count, rowHeight, heightOf, heightKey, overscan = 4, label, className, renderRow, onRangeChange }: Props) {
  const scroller = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewport, setViewport] = useState(0);

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    setViewport(el.clientHeight);
    const ro = new ResizeObserver(() => setViewport(el.clientHeight));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const onScroll = useCallback(() => {
    if (scroller.current) setScrollTop(scroller.current.scrollTop);
  }, []);

  // Variable heights only when asked: a fixed-height list of 100,000 rows needs no offset table at all.
  // heightOf is a fresh closure each render; heightKey is what says its answers changed.
  const offsets = useMemo(() => (heightOf ? buildOffsets(count, heightOf) : null), [count, heightKey, heightOf ? 1 : 0]);
  const top = (i: number): number => (offsets ? offsets[i] : i * rowHeight);
  const heightAt = (i: number): number => (offsets ? offsets[i + 1] - offsets[i] : rowHeight);
  const total = offsets ? offsets[count] : count * rowHeight;

  let start = 0;
  let end = 0;
  if (count > 0) {
    const first = offsets ? rowAt(offsets, count, scrollTop) : Math.min(count - 1, Math.floor(scrollTop / rowHeight));
    const last = offsets
      ? rowAt(offsets, count, scrollTop + viewport)
      : Math.min(count - 1, Math.floor((scrollTop + Math.max(viewport, rowHeight)) / rowHeight));
    start = Math.max(0, first - overscan);
    end = Math.min(count, last + 1 + overscan);
  }

  useEffect(() => {
    onRangeChange?.(start, end);
  }, [start, end, onRangeChange]);

  const rows: ReactNode[] = [];
  for (let i = start; i < end; i++) rows.push(renderRow(i, top(i), heightAt(i)));

  return (
    // Focusable so the keyboard can scroll it even when its rows hold nothing to tab to.
    <div ref={scroller} className={`vlist ${className ?? ''}`} onScroll={onScroll} role="list" aria-label={label} tabIndex={0}>
      <div className="vlist-inner" style={{ height: total }}>
        {rows}
      </div>
    </div>
  );
}
