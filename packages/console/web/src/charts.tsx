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

export interface LatencyDay {
  label: string;
  /** Calls that day; days without calls leave a gap in the lines. */
  calls: number;
  averageMs: number;
  p50Ms: number;
}

/** Two lines over days: average and median call duration, with the latest day's values named. */
export function LatencyChart({ days, label }: { days: LatencyDay[]; label: string }) {
  const width = 600;
  const height = 140;
  const withCalls = days.filter((d) => d.calls > 0);
  if (withCalls.length === 0) return <p class="muted">No calls yet.</p>;
  const max = Math.max(1, ...withCalls.map((d) => Math.max(d.averageMs, d.p50Ms)));
  // Each day is a column, as in the activity chart; its value a level across it, so that a lone
  // day shows too. Levels of consecutive days with calls are joined; a day without calls breaks the line.
  const step = width / Math.max(1, days.length);
  const y = (value: number) => (height - (value / max) * (height - 4)).toFixed(1);
  const line = (value: (d: LatencyDay) => number) =>
    days
      .map((d, i) => {
        if (d.calls === 0) return '';
        const joined = i > 0 && days[i - 1].calls > 0;
        return `${joined ? 'L' : 'M'}${(i * step).toFixed(1)},${y(value(d))} H${((i + 1) * step).toFixed(1)}`;
      })
      .join(' ');
  const last = withCalls.at(-1)!;
  const round = (n: number) => Math.round(n).toLocaleString('en-US');
  return (
    <figure class="chart">
      <svg
        viewBox={`0 0 ${width} ${height + 20}`}
        role="img"
        aria-label={`${label}: on ${last.label} average ${round(last.averageMs)} ms, median ${round(last.p50Ms)} ms; highest ${round(max)} ms over ${withCalls.length} days with calls`}
        preserveAspectRatio="none"
      >
        <path class="line line-average" d={line((d) => d.averageMs)} />
        <path class="line line-median" d={line((d) => d.p50Ms)} />
        {days.map((d, i) =>
          d.calls > 0 ? (
            <rect class="hit" x={i * step} y="0" width={step} height={height}>
              <title>{`${d.label}: average ${round(d.averageMs)} ms, median ${round(d.p50Ms)} ms, ${d.calls} calls`}</title>
            </rect>
          ) : null,
        )}
        <line class="axis" x1="0" x2={width} y1={height} y2={height} />
        <text class="tick" x="0" y={height + 16}>
          {days[0]?.label ?? ''}
        </text>
        <text class="tick" x={width} y={height + 16} text-anchor="end">
          {days.at(-1)?.label ?? ''}
        </text>
      </svg>
      <figcaption>
        <span class="key key-average" aria-hidden="true" /> average <span class="key key-median" aria-hidden="true" /> median (p50) per day · top of the chart {round(max)} ms
      </figcaption>
    </figure>
  );
}
