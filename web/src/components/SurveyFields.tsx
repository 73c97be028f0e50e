import { createContext, type ReactNode, useContext, useId } from 'react';
import type { LocalText, Problem } from './SurveyModel';

/**
 * Form fields of the survey editor. Each field has a path (`q:KEY.text`, `thankYou`, …) that the
 * API's validation details are mapped onto, so an error shows next to the field it is about.
 */

export interface SurveyFormState {
  /** API details (mapped to editor paths) and the editor's own checks. */
  errors: readonly Problem[];
  /** Forget the API's errors of a field once it is edited. */
  clear: (path: string) => void;
  /** The language whose texts are being edited. */
  language: string;
  languages: readonly string[];
  readOnly: boolean;
}

export const SurveyFormContext = createContext<SurveyFormState>({
  errors: [],
  clear: () => undefined,
  language: 'en',
  languages: ['en'],
  readOnly: true,
});

export const useSurveyForm = () => useContext(SurveyFormContext);

/** Whether an error path is about a field (the field itself or a part of it). */
export const within = (errorPath: string, fieldPath: string): boolean =>
  errorPath === fieldPath || errorPath.startsWith(`${fieldPath}.`) || errorPath.startsWith(`${fieldPath}[`);

/** The element id of a field, for labels, error links and focus. */
export const fieldId = (path: string): string => `field-${path.replace(/[^A-Za-z0-9_-]+/g, '-')}`;

export const useFieldErrors = (path: string): Problem[] => {
  const { errors } = useSurveyForm();
  return errors.filter((error) => within(error.path, path));
};

/** The messages of a field, each with the part of the field it concerns (e.g. the language). */
export const FieldErrors = ({ path, id, errors }: { path: string; id: string; errors: Problem[] }) =>
  errors.length === 0 ? null : (
    <ul className="field-errors" id={id}>
      {errors.map((error) => {
        const rest = error.path.slice(path.length).replace(/^\./, '').replace(/"/g, '');
        // "de: missing the "de" translation" says it twice.
        const part = rest && !error.message.includes(`"${rest}"`) ? rest : '';
        return (
          <li key={`${error.path}:${error.message}`}>
            {part ? <code>{part}</code> : null} {error.message}
          </li>
        );
      })}
    </ul>
  );

interface FieldShell {
  label: string;
  path: string;
  hint?: ReactNode;
  className?: string;
}

/** Label, hint and errors around one input; gives the input its id and ARIA links. */
const Field = ({
  label,
  path,
  hint,
  className,
  children,
}: FieldShell & {
  children: (props: { id: string; 'aria-describedby'?: string; 'aria-invalid'?: true }) => ReactNode;
}) => {
  const errors = useFieldErrors(path);
  const id = fieldId(path);
  const hintId = useId();
  const errorId = `${id}-errors`;
  const described = [hint ? hintId : '', errors.length ? errorId : ''].filter(Boolean).join(' ');
  return (
    <div className={`sq-field${errors.length ? ' has-error' : ''}${className ? ` ${className}` : ''}`}>
      <label htmlFor={id}>{label}</label>
      {hint && (
        <span className="sq-hint" id={hintId}>
          {hint}
        </span>
      )}
      {children({
        id,
        ...(described && { 'aria-describedby': described }),
        ...(errors.length > 0 && { 'aria-invalid': true as const }),
      })}
      <FieldErrors path={path} id={errorId} errors={errors} />
    </div>
  );
};

export const TextField = ({
  value,
  onChange,
  multiline = false,
  maxLength,
  list,
  ...shell
}: FieldShell & {
  value: string;
  onChange: (value: string) => void;
  multiline?: boolean;
  maxLength?: number;
  /** Id of a datalist of suggestions. */
  list?: string;
}) => {
  const { clear, readOnly } = useSurveyForm();
  const change = (next: string) => {
    clear(shell.path);
    onChange(next);
  };
  return (
    <Field {...shell}>
      {(props) =>
        multiline ? (
          <textarea
            {...props}
            rows={2}
            value={value}
            maxLength={maxLength}
            readOnly={readOnly}
            onChange={(event) => change(event.target.value)}
          />
        ) : (
          <input
            {...props}
            type="text"
            value={value}
            maxLength={maxLength}
            list={list}
            readOnly={readOnly}
            onChange={(event) => change(event.target.value)}
          />
        )
      }
    </Field>
  );
};

/**
 * A text the respondent reads, edited in the editing language; says which other languages still
 * lack it (a survey needs every text in each of its languages).
 */
export const LocalTextField = ({
  text,
  onChange,
  multiline = false,
  optional = false,
  maxLength = 2000,
  ...shell
}: FieldShell & {
  text: LocalText;
  onChange: (text: LocalText) => void;
  multiline?: boolean;
  /** Optional texts may be empty in every language (then they are left out). */
  optional?: boolean;
  maxLength?: number;
}) => {
  const { language, languages } = useSurveyForm();
  const filled = languages.some((code) => text[code]?.trim());
  const missing = languages.filter((code) => code !== language && !text[code]?.trim());
  const base = languages[0];
  // Translating: the default language's text is the reference.
  const reference = language !== base && text[base]?.trim() ? `In ${base}: “${text[base].trim()}”` : '';
  const gaps =
    languages.length > 1 && missing.length > 0 && (filled || !optional)
      ? `Not yet in ${missing.join(', ')}.`
      : '';
  const note = [reference, gaps].filter(Boolean).join(' ') || null;
  const hint =
    shell.hint || note ? (
      <>
        {shell.hint}
        {shell.hint && note ? ' ' : null}
        {note}
      </>
    ) : undefined;
  return (
    <TextField
      {...shell}
      label={languages.length > 1 ? `${shell.label} (${language})` : shell.label}
      hint={hint}
      value={text[language] ?? ''}
      multiline={multiline}
      maxLength={maxLength}
      onChange={(value) => onChange({ ...text, [language]: value })}
    />
  );
};

export const NumberField = ({
  value,
  onChange,
  min,
  max,
  step,
  allowEmpty = false,
  ...shell
}: FieldShell & {
  value: number | null;
  onChange: (value: number | null) => void;
  min?: number;
  max?: number;
  step?: number;
  allowEmpty?: boolean;
}) => {
  const { clear, readOnly } = useSurveyForm();
  return (
    <Field {...shell} className={`sq-number${shell.className ? ` ${shell.className}` : ''}`}>
      {(props) => (
        <input
          {...props}
          type="number"
          inputMode="numeric"
          value={value ?? ''}
          min={min}
          max={max}
          step={step}
          readOnly={readOnly}
          onChange={(event) => {
            clear(shell.path);
            const raw = event.target.value;
            if (raw === '') onChange(allowEmpty ? null : (min ?? 0));
            else if (Number.isFinite(Number(raw))) onChange(Number(raw));
          }}
        />
      )}
    </Field>
  );
};

export const SelectField = <T extends string>({
  value,
  onChange,
  options,
  ...shell
}: FieldShell & {
  value: T;
  onChange: (value: T) => void;
  options: readonly { value: T; label: string }[];
}) => {
  const { clear, readOnly } = useSurveyForm();
  return (
    <Field {...shell}>
      {(props) => (
        <select
          {...props}
          value={value}
          disabled={readOnly}
          onChange={(event) => {
            clear(shell.path);
            onChange(event.target.value as T);
          }}
        >
          {options.map((option) => (
            <option key={option.value} value={option.value}>
              {option.label}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
};

export const CheckboxField = ({
  label,
  path,
  checked,
  onChange,
}: {
  label: string;
  path: string;
  checked: boolean;
  onChange: (checked: boolean) => void;
}) => {
  const { clear, readOnly } = useSurveyForm();
  const errors = useFieldErrors(path);
  const id = fieldId(path);
  return (
    <div className={`sq-check${errors.length ? ' has-error' : ''}`}>
      <label htmlFor={id}>
        <input
          id={id}
          type="checkbox"
          checked={checked}
          disabled={readOnly}
          aria-describedby={errors.length ? `${id}-errors` : undefined}
          onChange={(event) => {
            clear(path);
            onChange(event.target.checked);
          }}
        />
        {label}
      </label>
      <FieldErrors path={path} id={`${id}-errors`} errors={errors} />
    </div>
  );
};
