// The API key: write-only. The window only learns "set" / "not set"; in the browser the server owns the key, so the field is off.
import { useId, useState, type FormEvent } from 'react';
import { getBridge } from '../../bridge/index.ts';
import { useI18n } from '../../i18n/index.ts';
import { useSettings } from '../../state/settings.ts';

export function ApiKeyField({ keySet }: { keySet: boolean }) {
  const { t } = useI18n();
  const id = useId();
  const apply = useSettings((s) => s.apply);
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const web = getBridge().door === 'web';

  const send = async (apiKey: string | null): Promise<void> => {
    setBusy(true);
    const problem = await apply({ apiKey });
    setBusy(false);
    setError(problem);
    // Never keep a key around in the page longer than it takes to send it.
    if (!problem) setKey('');
  };
  const onSubmit = (e: FormEvent): void => {
    e.preventDefault();
    if (key.trim()) void send(key.trim());
  };

  return (
    <form className="field" onSubmit={onSubmit}>
      <label htmlFor={id} className="field-label">
        {t('settings.apiKey')}
      </label>
      <p className="key-status" data-testid="key-status">
        {t('settings.keyStatus', { status: keySet ? t('settings.keySet') : t('settings.keyNotSet') })}
      </p>
      <div className="inline-controls">
        <input
          id={id}
          type="password"
          autoComplete="off"
          spellCheck={false}
          value={key}
          disabled={web || busy}
          placeholder={t('settings.keyPlaceholder')}
          aria-describedby={`${id}-note${error ? ` ${id}-error` : ''}`}
          onChange={(e) => setKey(e.target.value)}
        />
        <button type="submit" disabled={web || busy || key.trim() === ''}>
          {t('settings.keySave')}
        </button>
        <button type="button" disabled={web || busy || !keySet} onClick={() => void send(null)}>
          {t('settings.keyClear')}
        </button>
      </div>
      <p id={`${id}-note`} className="hint">
        {web ? t('settings.keyNoteWeb') : t('settings.keyNoteDesktop')}
      </p>
      {error && (
        <p id={`${id}-error`} className="error-text" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
