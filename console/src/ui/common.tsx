import type { ComponentChildren } from 'preact';
import type { ApiError } from '../api/client.ts';

export { formatDuration, formatNumber, formatPercent, formatTime } from './format.ts';

/** An API refusal exactly as the API worded it. */
export function ErrorBox({ error }: { error: ApiError | undefined }) {
  if (!error) return null;
  return (
    <div class="error" role="alert">
      <code>{error.errorCode}</code> {error.message}
    </div>
  );
}

export function Loading({ when }: { when: boolean }) {
  return when ? <p class="muted">Loading…</p> : null;
}

export function Page({
  title,
  actions,
  children,
}: {
  title: ComponentChildren;
  actions?: ComponentChildren;
  children: ComponentChildren;
}) {
  return (
    <section class="page">
      <header class="page-head">
        <h1>{title}</h1>
        {actions ? <div class="actions">{actions}</div> : null}
      </header>
      {children}
    </section>
  );
}

export function Card({
  title,
  children,
  class: className,
}: {
  title?: ComponentChildren;
  children: ComponentChildren;
  class?: string;
}) {
  return (
    <div class={`card ${className ?? ''}`}>
      {title ? <h2>{title}</h2> : null}
      {children}
    </div>
  );
}

/** Key/value pairs (params, tags) as a small table. */
export function KeyValues({
  items,
  empty = 'None',
}: {
  items: Array<{ key: string; value: ComponentChildren }>;
  empty?: string;
}) {
  if (items.length === 0) return <p class="muted">{empty}</p>;
  return (
    <table class="kv">
      <tbody>
        {items.map((item) => (
          <tr key={item.key}>
            <th>{item.key}</th>
            <td>{item.value}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function Status({ value }: { value: string }) {
  return <span class={`status status-${value.toLowerCase()}`}>{value}</span>;
}

export function Tabs<T extends string>({
  tabs,
  active,
  onChange,
}: {
  tabs: ReadonlyArray<readonly [T, string]>;
  active: T;
  onChange: (tab: T) => void;
}) {
  return (
    <div class="tabs" role="tablist">
      {tabs.map(([id, label]) => (
        <button
          type="button"
          role="tab"
          aria-selected={id === active}
          class={id === active ? 'active' : ''}
          onClick={() => onChange(id)}
          key={id}
        >
          {label}
        </button>
      ))}
    </div>
  );
}

/** A modal confirmation: the question, what it will do, and two buttons. */
export function Confirm({
  title,
  children,
  confirmLabel,
  onConfirm,
  onCancel,
  busy,
}: {
  title: string;
  children: ComponentChildren;
  confirmLabel: string;
  onConfirm: () => void;
  onCancel: () => void;
  busy?: boolean;
}) {
  return (
    <div class="modal-backdrop">
      <div class="modal" role="dialog" aria-modal="true" aria-label={title}>
        <h2>{title}</h2>
        {children}
        <div class="actions">
          <button type="button" onClick={onCancel} disabled={busy}>
            Cancel
          </button>
          <button type="button" class="primary" onClick={onConfirm} disabled={busy}>
            {confirmLabel}
          </button>
        </div>
      </div>
    </div>
  );
}
