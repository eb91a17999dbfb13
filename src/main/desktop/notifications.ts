// OS notifications when downloads finish or fail; a burst (a whole month finishing at once) becomes one summary.
import type { Events, FilehaulApi } from '../../shared/contract.ts';
import type { DesktopLabels } from './labels.ts';

export interface DesktopNote {
  title: string;
  body: string;
  /** Set when the note is about one download. */
  downloadId?: string;
}

/** Notices arriving this close together are shown as one notification. */
export const NOTICE_GATHER_MS = 1500;

/**
 * Shows a notification for every `notice` about a download (done: info, failed: error) and for errors about
 * nothing in particular; other info notices stay in the window. Returns a function that stops listening.
 */
export function notifyOnNotices(api: Pick<FilehaulApi, 'on'>, show: (note: DesktopNote) => void, labels: DesktopLabels, gatherMs = NOTICE_GATHER_MS): () => void {
  let gathered: Events['notice'][] = [];
  let timer: NodeJS.Timeout | null = null;

  const flush = (): void => {
    timer = null;
    const notices = gathered;
    gathered = [];
    if (notices.length === 1) show(noteFor(notices[0], labels));
    else if (notices.length > 1) show(summaryFor(notices, labels));
  };

  const unsubscribe = api.on('notice', (notice) => {
    if (notice.level === 'info' && notice.downloadId === undefined) return;
    gathered.push(notice);
    timer ??= setTimeout(flush, gatherMs);
  });
  return () => {
    unsubscribe();
    if (timer) clearTimeout(timer);
    timer = null;
    gathered = [];
  };
}

function noteFor(notice: Events['notice'], labels: DesktopLabels): DesktopNote {
  const title = notice.downloadId === undefined ? labels.problem : notice.level === 'error' ? labels.downloadFailed : labels.downloadDone;
  return { title, body: notice.message, ...(notice.downloadId === undefined ? {} : { downloadId: notice.downloadId }) };
}

function summaryFor(notices: Events['notice'][], labels: DesktopLabels): DesktopNote {
  const failed = notices.filter((notice) => notice.level === 'error').length;
  const done = notices.length - failed;
  const title = failed > 0 ? labels.downloadFailed : labels.downloadDone;
  // The first failure is the one worth reading; the count says how many more there are.
  const firstFailure = notices.find((notice) => notice.level === 'error');
  return { title, body: [labels.summary(done, failed), firstFailure?.message].filter(Boolean).join(' — ') };
}
