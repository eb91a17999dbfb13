// Add screen: a "File IDs" text area taking ids or URLs in bulk, with inline errors from the loose check and from the engine.
import { useId, useMemo, useState, type FormEvent } from 'react';
import { getBridge } from '../../bridge/index.ts';
import { useI18n } from '../../i18n/index.ts';
import { useDownloads } from '../../state/downloads.ts';
import { useUi } from '../../state/ui.ts';
import { parseInputs } from './parseInputs.ts';

interface EntryError {
  input: string;
  message: string;
}

export function AddScreen() {
  const { t, tn } = useI18n();
  const ids = useId();
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<EntryError[]>([]);
  const [formError, setFormError] = useState<string | null>(null);
  const [added, setAdded] = useState<number | null>(null);
  const setScreen = useUi((s) => s.setScreen);
  const entries = useMemo(() => parseInputs(text), [text]);

  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    setAdded(null);
    setFormError(null);
    if (entries.length === 0) {
      setErrors([]);
      setFormError(t('add.empty'));
      return;
    }
    const local: EntryError[] = entries.filter((e) => e.problem).map((e) => ({ input: e.input, message: t(e.problem!) }));
    const good = entries.filter((e) => !e.problem).map((e) => e.input);
    let server: EntryError[] = [];
    let count = 0;
    if (good.length > 0) {
      setBusy(true);
      try {
        const reply = await getBridge().api.request('add', { inputs: good });
        // Show the rows at once; the engine's own events will keep them current.
        useDownloads.getState().merge(reply.added);
        count = reply.added.length;
        server = reply.errors.map((e) => ({ input: e.input, message: e.error }));
      } catch (e) {
        setFormError(t('common.failed', { message: e instanceof Error ? e.message : String(e) }));
        setBusy(false);
        setErrors(local);
        return;
      }
      setBusy(false);
    }
    const all = [...local, ...server];
    setErrors(all);
    setAdded(count);
    // What went in leaves the box; what needs fixing stays, in the order it was typed.
    const failed = new Set(all.map((e) => e.input));
    setText(entries.filter((e) => failed.has(e.input)).map((e) => e.input).join('\n'));
  };

  const errorId = `${ids}-errors`;
  const hintId = `${ids}-hint`;
  return (
    <section className="screen add-screen" aria-labelledby={`${ids}-title`}>
      <h2 id={`${ids}-title`}>{t('add.title')}</h2>
      <form onSubmit={submit} className="add-form" noValidate>
        <label htmlFor={`${ids}-input`} className="field-label">
          {t('add.label')}
        </label>
        <textarea
          id={`${ids}-input`}
          value={text}
          onChange={(e) => setText(e.target.value)}
          rows={8}
          spellCheck={false}
          autoComplete="off"
          aria-describedby={`${hintId}${errors.length || formError ? ` ${errorId}` : ''}`}
          aria-invalid={errors.length > 0 || formError !== null}
          placeholder={'file_011CNha8iCJcU1wXNR6q4V8w\nhttps://example.com/data.csv'}
          onKeyDown={(e) => {
            // Ctrl/Cmd+Enter submits, as in most multi-line inputs.
            if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) void submit(e);
          }}
        />
        <p id={hintId} className="hint">
          {t('add.hint')}
        </p>
        <div className="form-actions">
          <button type="submit" className="primary" disabled={busy}>
            {busy ? t('add.adding') : t('add.submit')}
          </button>
          <span className="muted" aria-live="polite">
            {entries.length > 0 && tn('add.ready', entries.length)}
          </span>
        </div>
        <div id={errorId} aria-live="polite">
          {formError && (
            <p className="error-text" role="alert">
              {formError}
            </p>
          )}
          {errors.length > 0 && (
            <div className="entry-errors" role="alert">
              <h3>{t('add.errorsTitle')}</h3>
              <ul>
                {errors.map((e) => (
                  <li key={e.input}>
                    <code>{e.input}</code>: {e.message}
                  </li>
                ))}
              </ul>
              <p className="muted">{t('add.keepNote')}</p>
            </div>
          )}
        </div>
        {added !== null && added > 0 && (
          <p className="success-text" role="status">
            {tn('add.added', added)}{' '}
            <button type="button" className="link-button" onClick={() => setScreen('downloads')}>
              {t('add.viewDownloads')}
            </button>
          </p>
        )}
      </form>
    </section>
  );
}
