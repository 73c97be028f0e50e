export interface ChoiceProps<T extends string> {
  /** The question, e.g. "Show". */
  legend: string;
  /** Name of the radio group (unique on the page). */
  name: string;
  value: T;
  options: readonly { value: T; label: string }[];
  onChange: (value: T) => void;
}

/** One of a few options, as a row of buttons: radio inputs, so arrow keys move between them. */
export const Choice = <T extends string>({ legend, name, value, options, onChange }: ChoiceProps<T>) => (
  <fieldset className="segmented">
    <legend>{legend}</legend>
    {options.map((option) => (
      <label key={option.value}>
        <input
          type="radio"
          name={name}
          value={option.value}
          checked={option.value === value}
          onChange={() => onChange(option.value)}
        />
        {option.label}
      </label>
    ))}
  </fieldset>
);
