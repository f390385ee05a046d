/** Formatting of times, durations and numbers for display (pure: unit-tested in Node). */

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

export function formatTime(epochMs: number | null | undefined): string {
  return epochMs === null || epochMs === undefined ? '' : dateFormat.format(new Date(epochMs));
}

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

export function formatNumber(value: number | string | undefined): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  if (Number.isInteger(value)) return String(value);
  return Math.abs(value) >= 1e5 || Math.abs(value) < 1e-3
    ? value.toExponential(4)
    : String(+value.toPrecision(6));
}

export function formatPercent(value: number | null | undefined): string {
  return value === null || value === undefined ? '' : `${+(value * 100).toPrecision(3)}%`;
}
