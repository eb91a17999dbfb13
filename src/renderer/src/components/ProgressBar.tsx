// An accessible progress bar: role=progressbar with aria-valuenow/min/max in bytes, and a readable aria-valuetext.
import { memo } from 'react';

interface Props {
  /** Bytes done. */
  value: number;
  /** Total bytes; null when unknown, which draws an indeterminate bar without aria-valuenow. */
  max: number | null;
  label: string;
  valueText?: string;
  tone?: 'normal' | 'paused' | 'failed' | 'done' | 'idle';
  size?: 'normal' | 'small';
}

export const ProgressBar = memo(function ProgressBar({ value, max, label, valueText, tone = 'normal', size = 'normal' }: Props) {
  const known = max !== null && max >= 0;
  // An empty file is complete the moment it exists.
  const fraction = known ? (max === 0 ? 1 : Math.min(1, Math.max(0, value / max))) : 0;
  return (
    <div
      className={`progress progress-${size} progress-${tone}${known ? '' : ' progress-indeterminate'}`}
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={known ? max : undefined}
      aria-valuenow={known ? Math.min(value, max) : undefined}
      aria-valuetext={valueText}
    >
      {/* scaleX instead of width: the compositor moves it without a layout pass, which matters with many live bars. */}
      <div className="progress-fill" style={{ transform: `scaleX(${fraction})` }} />
    </div>
  );
});
