// The archive's months, newest first: YYYY-MM, its name in the reader's language, file count and total size.
import { useI18n } from '../../i18n/index.ts';
import { useArchive } from '../../state/archive.ts';

export function MonthList() {
  const { t, tn, fmt } = useI18n();
  const months = useArchive((s) => s.months);
  const loaded = useArchive((s) => s.loaded);
  const error = useArchive((s) => s.error);
  const chosen = useArchive((s) => s.month);
  const choose = useArchive((s) => s.choose);
  return (
    <nav className="month-list" aria-label={t('archive.months')}>
      <h3>{t('archive.months')}</h3>
      {error && (
        <p className="error-text" role="alert">
          {t('common.failed', { message: error })}
        </p>
      )}
      {loaded && months.length === 0 && !error && <p className="muted">{t('archive.noMonths')}</p>}
      <ul>
        {months.map((m) => (
          <li key={m.month}>
            <button type="button" className="month-button" aria-current={chosen === m.month ? 'true' : undefined} onClick={() => choose(m.month)}>
              <span className="month-id">{m.month}</span>
              <span className="month-name muted">{fmt.month(m.month)}</span>
              <span className="month-stats muted">
                {tn('archive.files', m.fileCount)} · {fmt.bytes(m.totalBytes)}
              </span>
            </button>
          </li>
        ))}
      </ul>
    </nav>
  );
}
