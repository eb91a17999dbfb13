// What "Verify month" found: a one-line summary and the paths that are missing, changed or unknown to the catalog.
import type { VerifyReportView } from '../../../../shared/contract.ts';
import { useI18n, type MessageKey } from '../../i18n/index.ts';

function PathList({ title, paths }: { title: MessageKey; paths: string[] }) {
  const { t } = useI18n();
  if (paths.length === 0) return null;
  return (
    <details open={paths.length <= 5}>
      <summary>
        {t(title)} ({paths.length})
      </summary>
      <ul className="path-list">
        {paths.slice(0, 200).map((p) => (
          <li key={p} className="mono">
            {p}
          </li>
        ))}
        {paths.length > 200 && <li>…</li>}
      </ul>
    </details>
  );
}

export function VerifyReport({ report }: { report: VerifyReportView }) {
  const { t, fmt } = useI18n();
  const clean = report.missing.length === 0 && report.changed.length === 0 && report.unknown.length === 0;
  return (
    <div className={`verify-report ${clean ? 'verify-ok' : 'verify-bad'}`} role="status" data-testid="verify-report">
      <p>
        {clean
          ? t('archive.verifyAllOk', { checked: fmt.number(report.checked) })
          : t('archive.verifyResult', {
              checked: fmt.number(report.checked),
              ok: fmt.number(report.ok),
              missing: fmt.number(report.missing.length),
              changed: fmt.number(report.changed.length),
              unknown: fmt.number(report.unknown.length),
            })}
      </p>
      <PathList title="archive.missing" paths={report.missing} />
      <PathList title="archive.changed" paths={report.changed} />
      <PathList title="archive.unknown" paths={report.unknown} />
    </div>
  );
}
