import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { useAccess } from './access';
import { errorText, onMeshChange, registry } from './api';

export const num = (value: bigint | number | undefined) => Number(value ?? 0).toLocaleString('en-US');
export const ms = (value: bigint | number | undefined) => `${Math.round(Number(value ?? 0)).toLocaleString('en-US')} ms`;
export const pct = (value: number) => `${(value * 100).toFixed(1)}%`;
export function bytes(value: bigint | number | undefined): string {
  const n = Number(value ?? 0);
  if (n === 0) return '';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
export function when(iso: string | undefined): string {
  if (!iso) return '';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toISOString().replace('T', ' ').slice(0, 19) + ' UTC';
}

/** Every minute even when no change was seen: reads by other callers count in the figures too. */
const LIVE_FALLBACK_MS = 60_000;

/**
 * Loads data; `refresh` loads it again: `'live'` when the mesh reports a change (and once a
 * minute), a number of milliseconds for a plain interval. Only while the tab is visible; a failed
 * reload keeps the last good result.
 */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[], refresh?: number | 'live'): { data?: T; error?: string; reload: () => void } {
  const [state, setState] = useState<{ data?: T; error?: string }>({});
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let cancelled = false;
    const run = () =>
      load().then(
        (data) => !cancelled && setState({ data }),
        (err) => !cancelled && setState((s) => ({ data: s.data, error: errorText(err) })),
      );
    run();
    const every = refresh === 'live' ? LIVE_FALLBACK_MS : refresh;
    const timer = every ? setInterval(() => document.visibilityState === 'visible' && run(), every) : undefined;
    const unsubscribe = refresh === 'live' ? onMeshChange(run) : undefined;
    return () => {
      cancelled = true;
      if (timer) clearInterval(timer);
      unsubscribe?.();
    };
  }, [...deps, tick]);
  return { ...state, reload: () => setTick((t) => t + 1) };
}

/** Says why controls are missing: the person's role on the project does not allow them. */
export function RoleNote({ what }: { what: string }) {
  const access = useAccess();
  const role = access.projects.find((p) => p.projectId === access.project)?.role;
  return (
    <p class="note" role="note">
      {role ? `Your role on this project (${role}) does not allow you to ${what}.` : `Choose one of your projects to ${what}.`} Owners and admins of the organization can change roles on the Members page.
    </p>
  );
}

export function ErrorNote({ error }: { error?: string }) {
  return error ? (
    <p class="error" role="alert">
      {error}
    </p>
  ) : null;
}

export function Card({ title, children, id }: { title: string; children: ComponentChildren; id?: string }) {
  return (
    <section class="card" aria-labelledby={id ?? slug(title)}>
      <h2 id={id ?? slug(title)}>{title}</h2>
      {children}
    </section>
  );
}

const slug = (text: string) => 'h-' + text.toLowerCase().replace(/[^a-z0-9]+/g, '-');

/** A table in a region that scrolls sideways on narrow screens (focusable, so keyboards can scroll it). */
export function Table({ label, head, children, empty }: { label: string; head: string[]; children: ComponentChildren; empty?: boolean }) {
  return (
    <div class="table-wrap" role="region" aria-label={label} tabIndex={0}>
      <table>
        <caption class="visually-hidden">{label}</caption>
        <thead>
          <tr>
            {head.map((h) => (
              <th scope="col">{h}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {children}
          {empty && (
            <tr>
              <td colSpan={head.length} class="muted">
                Nothing yet.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}

export function CopyButton({ text, label }: { text: string; label: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <button
      type="button"
      class="secondary"
      aria-label={label}
      onClick={async () => {
        await navigator.clipboard?.writeText(text).catch(() => undefined);
        setCopied(true);
        setTimeout(() => setCopied(false), 1500);
      }}
    >
      {copied ? 'Copied' : 'Copy'}
    </button>
  );
}

/** A modal confirmation (the native dialog element: focus trap and Escape for free). */
export function Confirm({ open, title, children, confirmLabel, onConfirm, onCancel }: { open: boolean; title: string; children: ComponentChildren; confirmLabel: string; onConfirm: () => void; onCancel: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  return (
    <dialog ref={ref} aria-labelledby="confirm-title" onCancel={onCancel}>
      <h2 id="confirm-title">{title}</h2>
      {children}
      <div class="actions">
        <button type="button" class="secondary" onClick={onCancel}>
          Cancel
        </button>
        <button type="button" class="danger" onClick={onConfirm}>
          {confirmLabel}
        </button>
      </div>
    </dialog>
  );
}

/** Drop files on it or pick them; calls `onFiles` with what was chosen. */
export function DropZone({ label, multiple, onFiles }: { label: string; multiple?: boolean; onFiles: (files: File[]) => void }) {
  const [over, setOver] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  return (
    <div
      class={over ? 'dropzone over' : 'dropzone'}
      data-testid="dropzone"
      onDragOver={(e) => {
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={(e) => {
        e.preventDefault();
        setOver(false);
        const files = [...(e.dataTransfer?.files ?? [])];
        if (files.length > 0) onFiles(multiple ? files : files.slice(0, 1));
      }}
    >
      <p>Drop {multiple ? 'files' : 'a file'} here, or</p>
      <label class="button secondary">
        Choose {multiple ? 'files' : 'a file'}
        <input
          ref={input}
          class="visually-hidden"
          type="file"
          aria-label={label}
          multiple={multiple}
          onChange={(e) => {
            const files = [...((e.target as HTMLInputElement).files ?? [])];
            if (files.length > 0) onFiles(files);
            if (input.current) input.current.value = '';
          }}
        />
      </label>
    </div>
  );
}

/** The mesh's projects, for pickers. */
/** The projects the signed-in identity may pick: the mesh's for the admin, their organizations' for a person. */
export function useProjects(): { data?: { projectId: string; name: string }[] } {
  const access = useAccess();
  const all = useLoad(async () => (access.account ? [] : (await registry.listProjects({ pageSize: 500 })).projects), [access.account]);
  return access.account ? { data: access.projects } : all;
}

export function ProjectSelect({ value, onChange, label = 'Project', allowAll: allowAllAsked }: { value: string; onChange: (id: string) => void; label?: string; allowAll?: boolean }) {
  const { data: projects } = useProjects();
  const access = useAccess();
  // A person acts on one project at a time: there is no "all" for them.
  const allowAll = allowAllAsked && !access.account;
  useEffect(() => {
    if (!allowAll && !value && projects && projects.length > 0) onChange(projects[0].projectId);
  }, [projects]);
  return (
    <label>
      {label}
      <select value={value} onChange={(e) => onChange((e.target as HTMLSelectElement).value)}>
        {allowAll && <option value="">All projects</option>}
        {(projects ?? []).map((p) => (
          <option value={p.projectId}>
            {p.name} ({p.projectId})
          </option>
        ))}
      </select>
    </label>
  );
}

/** Offers bytes as a file download (a Blob URL; no data leaves the page). */
export function download(name: string, data: Uint8Array | string, type: string) {
  const blob = new Blob([typeof data === 'string' ? data : new Uint8Array(data)], { type });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
