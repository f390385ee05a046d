import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';

/**
 * A search box in one of MLflow's filter syntaxes: Search applies what is typed (the page keeps it in
 * the URL), Clear drops an applied filter; `children` are the page's other controls on the same row.
 */
export function FilterForm({
  name,
  applied,
  placeholder,
  label,
  onApply,
  testId,
  children,
}: {
  name: string;
  applied: string;
  placeholder: string;
  label: string;
  onApply: (filter: string | undefined) => void;
  testId?: string;
  children?: ComponentChildren;
}) {
  const [draft, setDraft] = useState(applied);
  return (
    <form
      class="toolbar"
      data-testid={testId}
      onSubmit={(event) => {
        event.preventDefault();
        onApply(draft.trim() || undefined);
      }}
    >
      <input
        class="filter"
        name={name}
        placeholder={placeholder}
        value={draft}
        onInput={(event) => setDraft(event.currentTarget.value)}
        aria-label={label}
      />
      <button type="submit" class="primary">
        Search
      </button>
      {applied ? (
        <button
          type="button"
          onClick={() => {
            setDraft('');
            onApply(undefined);
          }}
        >
          Clear
        </button>
      ) : null}
      {children}
    </form>
  );
}
