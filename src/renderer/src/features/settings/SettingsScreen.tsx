// Settings: account key, endpoints, transfer limits (applied live), storage, encryption, and the interface language.
import { useId, useState } from 'react';
import type { NetworkPreset, SettingsPatch } from '../../../../shared/contract.ts';
import { useI18n } from '../../i18n/index.ts';
import { LOCALE_NAMES, detectLocale, type LocalePref } from '../../i18n/locale.ts';
import { useSettings } from '../../state/settings.ts';
import { useUi } from '../../state/ui.ts';
import { ApiKeyField } from './ApiKeyField.tsx';
import { CommitField } from './CommitField.tsx';
import { intParser, rateParser, rateText, urlParser } from './parsers.ts';

/** Selects and toggles apply on change; this keeps their error next to them. */
function useInstantApply(): [string | null, (patch: SettingsPatch) => void] {
  const apply = useSettings((s) => s.apply);
  const [error, setError] = useState<string | null>(null);
  return [error, (patch) => void apply(patch).then(setError)];
}

function LanguageField() {
  const { t } = useI18n();
  const id = useId();
  const pref = useUi((s) => s.localePref);
  const setPref = useUi((s) => s.setLocalePref);
  const system = LOCALE_NAMES[detectLocale(navigator.languages?.length ? navigator.languages : [navigator.language])];
  return (
    <div className="field">
      <label htmlFor={id} className="field-label">
        {t('settings.language')}
      </label>
      <select id={id} value={pref} onChange={(e) => setPref(e.target.value as LocalePref)}>
        <option value="system">{t('settings.langSystem', { name: system })}</option>
        {/* Each language named in itself, so a reader of either can find it. */}
        <option value="en" lang="en">
          {LOCALE_NAMES.en}
        </option>
        <option value="zh-CN" lang="zh-CN">
          {LOCALE_NAMES['zh-CN']}
        </option>
      </select>
      <p className="hint">{t('settings.themeNote')}</p>
    </div>
  );
}

export function SettingsScreen() {
  const i18n = useI18n();
  const { t } = i18n;
  const settings = useSettings((s) => s.settings);
  const loadError = useSettings((s) => s.loadError);
  const load = useSettings((s) => s.load);
  const [instantError, applyNow] = useInstantApply();
  const presetId = useId();
  const encryptId = useId();

  return (
    <section className="screen settings-screen" aria-labelledby="settings-title">
      <h2 id="settings-title">{t('settings.title')}</h2>
      {loadError && (
        <p className="error-text" role="alert">
          {t('settings.loadFailed', { message: loadError })}{' '}
          <button type="button" className="link-button" onClick={() => void load()}>
            {t('common.tryAgain')}
          </button>
        </p>
      )}
      {!settings && !loadError && <p className="muted">{t('common.loading')}</p>}
      <div className="settings-grid">
        {settings && (
          <>
            <fieldset>
              <legend>{t('settings.account')}</legend>
              <ApiKeyField keySet={settings.apiKeySet} />
            </fieldset>
            <fieldset>
              <legend>{t('settings.endpoints')}</legend>
              <CommitField label={t('settings.apiBase')} type="url" inputMode="url" value={settings.apiBase} parse={urlParser(i18n, 'apiBase')} />
              <CommitField
                label={t('settings.backup')}
                type="url"
                inputMode="url"
                value={settings.backupApiBase ?? ''}
                parse={urlParser(i18n, 'backupApiBase')}
                hint={t('settings.backupHint')}
              />
            </fieldset>
            <fieldset>
              <legend>{t('settings.transfers')}</legend>
              <CommitField label={t('settings.connections')} inputMode="numeric" value={String(settings.connections)} parse={intParser(i18n, 'connections', 1, 64)} />
              <CommitField label={t('settings.parallel')} inputMode="numeric" value={String(settings.parallelFiles)} parse={intParser(i18n, 'parallelFiles', 1, 32)} />
              <CommitField label={t('settings.rpm')} inputMode="numeric" value={String(settings.requestsPerMinute)} parse={intParser(i18n, 'requestsPerMinute', 1, 100_000)} />
              <CommitField label={t('settings.limit')} inputMode="decimal" value={rateText(settings.limitRate)} parse={rateParser(i18n)} hint={t('settings.limitHint')} placeholder="∞" />
              <div className="field">
                <label htmlFor={presetId} className="field-label">
                  {t('settings.preset')}
                </label>
                <select id={presetId} value={settings.preset} onChange={(e) => applyNow({ preset: e.target.value as NetworkPreset })}>
                  <option value="lan">{t('settings.presetLan')}</option>
                  <option value="cloud">{t('settings.presetCloud')}</option>
                  <option value="cross-border">{t('settings.presetCross')}</option>
                </select>
              </div>
            </fieldset>
            <fieldset>
              <legend>{t('settings.storage')}</legend>
              <div className="field">
                <span className="field-label">{t('settings.dataDir')}</span>
                <output className="mono readonly" data-testid="data-dir">
                  {settings.dataDir}
                </output>
              </div>
              <div className="field checkbox-field">
                <input id={encryptId} type="checkbox" checked={settings.encrypt} onChange={(e) => applyNow({ encrypt: e.target.checked })} />
                <label htmlFor={encryptId}>{t('settings.encrypt')}</label>
              </div>
            </fieldset>
          </>
        )}
        {/* Not an engine setting: the language must be choosable even when the server cannot be reached. */}
        <fieldset>
          <legend>{t('settings.interface')}</legend>
          <LanguageField />
        </fieldset>
      </div>
      {instantError && (
        <p className="error-text" role="alert">
          {instantError}
        </p>
      )}
    </section>
  );
}
