// Toasts for engine notices and failed requests, in a polite live region; info fades on its own, errors stay until dismissed.
import { useEffect } from 'react';
import { useI18n } from '../i18n/index.ts';
import { useNotices, type Notice } from '../state/notices.ts';

function NoticeItem({ notice }: { notice: Notice }) {
  const { t } = useI18n();
  const dismiss = useNotices((s) => s.dismiss);
  useEffect(() => {
    if (notice.level !== 'info') return;
    const timer = setTimeout(() => dismiss(notice.id), 6000);
    return () => clearTimeout(timer);
  }, [notice, dismiss]);
  return (
    <li className={`notice notice-${notice.level}`}>
      <span>{notice.message}</span>
      <button type="button" className="link-button" onClick={() => dismiss(notice.id)} aria-label={t('common.dismiss')}>
        ×
      </button>
    </li>
  );
}

export function Notices() {
  const { t } = useI18n();
  const items = useNotices((s) => s.items);
  return (
    <section className="notices" aria-label={t('notices.label')} aria-live="polite">
      <ul>
        {items.map((n) => (
          <NoticeItem key={n.id} notice={n} />
        ))}
      </ul>
    </section>
  );
}
