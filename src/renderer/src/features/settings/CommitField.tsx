// A settings input that sends its value when the user commits it (Enter or leaving the field), with inline status and errors.
import { useEffect, useId, useState, type ReactNode } from 'react';
import type { SettingsPatch } from '../../../../shared/contract.ts';
import { useI18n } from '../../i18n/index.ts';
import { useSettings } from '../../state/settings.ts';

export type Parse = (text: string) => { patch: SettingsPatch } | { error: string };

interface Props {
  label: string;
  /** The engine's current value, as text. */
  value: string;
  parse: Parse;
  type?: 'text' | 'url' | 'number';
  hint?: ReactNode;
  inputMode?: 'numeric' | 'decimal' | 'url';
  min?: number;
  max?: number;
  step?: number | 'any';
  placeholder?: string;
}

type Status = { kind: 'idle' } | { kind: 'saving' } | { kind: 'saved' } | { kind: 'error'; message: string };

export function CommitField({ label, value, parse, type = 'text', hint, inputMode, min, max, step, placeholder }: Props) {
  const { t } = useI18n();
  const id = useId();
  const apply = useSettings((s) => s.apply);
  const [text, setText] = useState(value);
  const [dirty, setDirty] = useState(false);
  const [status, setStatus] = useState<Status>({ kind: 'idle' });

  // Follow the engine (another window, a preset) unless the user is mid-edit.
  useEffect(() => {
    if (!dirty) setText(value);
  }, [value, dirty]);

  const commit = async (): Promise<void> => {
    if (!dirty) return;
    const parsed = parse(text.trim());
    if ('error' in parsed) {
      setStatus({ kind: 'error', message: parsed.error });
      return;
    }
    setStatus({ kind: 'saving' });
    const error = await apply(parsed.patch);
    if (error) {
      setStatus({ kind: 'error', message: error });
    } else {
      setDirty(false);
      setStatus({ kind: 'saved' });
    }
  };

  const describedBy = [hint ? `${id}-hint` : '', `${id}-status`].filter(Boolean).join(' ');
  return (
    <div className="field">
      <label htmlFor={id} className="field-label">
        {label}
      </label>
      <input
        id={id}
        type={type}
        value={text}
        inputMode={inputMode}
        min={min}
        max={max}
        step={step}
        placeholder={placeholder}
        aria-invalid={status.kind === 'error'}
        aria-describedby={describedBy}
        onChange={(e) => {
          setText(e.target.value);
          setDirty(true);
          if (status.kind !== 'saving') setStatus({ kind: 'idle' });
        }}
        onBlur={() => void commit()}
        onKeyDown={(e) => {
          if (e.key === 'Enter') void commit();
          if (e.key === 'Escape') {
            setText(value);
            setDirty(false);
            setStatus({ kind: 'idle' });
          }
        }}
      />
      {hint && (
        <p id={`${id}-hint`} className="hint">
          {hint}
        </p>
      )}
      <p id={`${id}-status`} className={`field-status ${status.kind === 'error' ? 'error-text' : 'muted'}`} aria-live="polite">
        {status.kind === 'saving' && t('settings.saving')}
        {status.kind === 'saved' && t('settings.saved')}
        {status.kind === 'error' && status.message}
      </p>
    </div>
  );
}
