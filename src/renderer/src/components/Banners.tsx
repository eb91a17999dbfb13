// Banners across the top: demo data (always visible when on) and a lost or refused link to the server.
import { useI18n } from '../i18n/index.ts';
import { useLink } from '../state/connect.ts';
import { useSettings } from '../state/settings.ts';

export function Banners() {
  const { t } = useI18n();
  const demo = useSettings((s) => s.settings?.demo ?? false);
  const link = useLink((s) => s.status);
  return (
    <>
      {demo && (
        <div className="banner banner-demo" role="note" data-testid="demo-banner">
          <strong>{t('demo.badge')}</strong> {t('demo.banner')}
        </div>
      )}
      {link === 'connecting' && (
        <div className="banner banner-warn" role="status">
          {t('link.connecting')}
        </div>
      )}
      {link === 'unauthorized' && (
        <div className="banner banner-error" role="alert">
          {t('link.unauthorized')}
        </div>
      )}
    </>
  );
}
