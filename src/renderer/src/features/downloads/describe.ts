// Turns one DownloadView into the words and numbers its row shows: state text, percent, ETA, which buttons apply.
import type { DownloadView } from '../../../../shared/contract.ts';
import type { I18n } from '../../i18n/index.ts';

export type Phase = 'queued' | 'connecting' | 'downloading' | 'waiting' | 'paused' | 'verifying' | 'done' | 'failed';

/** The engine's state refined by what the row can see: a wait for a rate limit, or a start with no connection yet. */
export function phaseOf(d: DownloadView, now: number): Phase {
  if (d.waitingUntil !== null && d.waitingUntil > now && (d.state === 'queued' || d.state === 'downloading')) return 'waiting';
  if (d.state === 'downloading' && d.connections === 0 && d.bytesPerSecond === 0) return 'connecting';
  return d.state;
}

export function stateText(d: DownloadView, phase: Phase, i18n: I18n): string {
  const { t, fmt } = i18n;
  switch (phase) {
    case 'waiting':
      return t('state.waiting', { time: fmt.time(d.waitingUntil ?? 0) });
    case 'failed':
      return d.error ? t('state.failed', { reason: d.error }) : t('state.failedBare');
    case 'paused':
      // A pause the engine chose (a full disk, waiting for space) says why; a pause the user asked for needs no reason.
      return d.error ? t('state.pausedBecause', { reason: d.error }) : t('state.paused');
    default:
      return t(`state.${phase}`);
  }
}

/** Seconds left at the current speed, or null when it cannot be known. */
export function etaSeconds(d: DownloadView): number | null {
  if (d.state !== 'downloading' || d.sizeBytes === null || d.bytesPerSecond <= 0) return null;
  return Math.max(0, d.sizeBytes - d.bytesDownloaded) / d.bytesPerSecond;
}

export interface Actions {
  pause: boolean;
  resume: boolean;
  cancel: boolean;
  retry: boolean;
}

export function actionsFor(d: DownloadView): Actions {
  return {
    // A pause the engine chose (a full disk) ends by itself when space returns; Pause makes it the user's, so it stays.
    pause: d.state === 'queued' || d.state === 'downloading' || (d.state === 'paused' && d.error !== null),
    resume: d.state === 'paused',
    cancel: d.state !== 'done',
    retry: d.state === 'failed',
  };
}

export function displayName(d: DownloadView): string {
  return d.filename ?? d.source;
}
