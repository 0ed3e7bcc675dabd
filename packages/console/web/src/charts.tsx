// Charts drawn as SVG by hand: three small shapes (stacked columns, horizontal bars, a line) do
// not need a charting library, and SVG attributes keep them within the no-inline-style policy.

export interface Column {
  label: string;
  ok: number;
  failed: number;
}

/** Stacked columns (successes, errors) with a readable summary for screen readers. */
export function ActivityChart({ columns, label }: { columns: Column[]; label: string }) {
  const width = 600;
  const height = 160;
  const max = Math.max(1, ...columns.map((c) => c.ok + c.failed));
  const step = width / Math.max(1, columns.length);
  const total = columns.reduce((sum, c) => sum + c.ok + c.failed, 0);
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${width} ${height + 20}`} role="img" aria-label={`${label}: ${total} calls over ${columns.length} days`} preserveAspectRatio="none">
        {columns.map((c, i) => {
          const okHeight = (c.ok / max) * height;
          const failedHeight = (c.failed / max) * height;
          return (
            <g>
              <title>{`${c.label}: ${c.ok} ok, ${c.failed} errors`}</title>
              <rect class="bar-ok" x={i * step + 1} width={Math.max(1, step - 2)} y={height - okHeight} height={okHeight} />
              <rect class="bar-error" x={i * step + 1} width={Math.max(1, step - 2)} y={height - okHeight - failedHeight} height={failedHeight} />
            </g>
          );
        })}
        <line class="axis" x1="0" x2={width} y1={height} y2={height} />
        <text class="tick" x="0" y={height + 16}>
          {columns[0]?.label ?? ''}
        </text>
        <text class="tick" x={width} y={height + 16} text-anchor="end">
          {columns.at(-1)?.label ?? ''}
        </text>
      </svg>
      <figcaption>
        <span class="key key-ok" aria-hidden="true" /> successes <span class="key key-error" aria-hidden="true" /> errors · peak {max} calls a day
      </figcaption>
    </figure>
  );
}

/** Horizontal bars, one per entry, largest first. */
export function BarList({ entries, label }: { entries: { label: string; value: number }[]; label: string }) {
  const max = Math.max(1, ...entries.map((e) => e.value));
  if (entries.length === 0) return <p class="muted">No calls yet.</p>;
  return (
    <ul class="bar-list" aria-label={label}>
      {entries.map((e) => (
        <li>
          <span class="bar-label">{e.label}</span>
          <svg viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true" class="bar-svg">
            <rect class="bar-ok" x="0" y="0" height="10" width={(e.value / max) * 100} />
          </svg>
          <span class="bar-value">{e.value.toLocaleString('en-US')}</span>
        </li>
      ))}
    </ul>
  );
}

/** A line of values in time order (call durations), with its median and maximum named. */
export function LineChart({ points, label, unit }: { points: number[]; label: string; unit: string }) {
  const width = 600;
  const height = 120;
  if (points.length < 2) return <p class="muted">Not enough calls yet.</p>;
  const max = Math.max(1, ...points);
  const sorted = [...points].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  const path = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${((i / (points.length - 1)) * width).toFixed(1)},${(height - (p / max) * height).toFixed(1)}`).join(' ');
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`${label}: median ${median} ${unit}, maximum ${max} ${unit}, ${points.length} calls`} preserveAspectRatio="none">
        <path class="line" d={path} />
        <line class="axis" x1="0" x2={width} y1={height} y2={height} />
      </svg>
      <figcaption>
        {points.length} most recent calls, oldest left · median {median} {unit} · max {max} {unit}
      </figcaption>
    </figure>
  );
}
