// Archive screen: months on the left, the chosen month's files on the right; opens on the newest month.
import { useEffect } from 'react';
import { useI18n } from '../../i18n/index.ts';
import { useArchive } from '../../state/archive.ts';
import { FilesPanel } from './FilesPanel.tsx';
import { MonthList } from './MonthList.tsx';

export function ArchiveScreen() {
  const { t } = useI18n();
  const months = useArchive((s) => s.months);
  const month = useArchive((s) => s.month);
  const choose = useArchive((s) => s.choose);

  useEffect(() => {
    // Fresh numbers each visit; the list also refreshes by itself when downloads finish.
    void useArchive.getState().loadMonths();
  }, []);
  useEffect(() => {
    if (month === null && months.length > 0) choose(months[0].month);
  }, [month, months, choose]);

  return (
    <section className="screen archive-screen" aria-labelledby="archive-title">
      <h2 id="archive-title" className="visually-hidden">
        {t('archive.title')}
      </h2>
      <div className="archive-layout">
        <MonthList />
        <FilesPanel />
      </div>
    </section>
  );
}
