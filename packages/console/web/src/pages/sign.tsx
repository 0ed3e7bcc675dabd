import { useState } from 'preact/hooks';
import { signingV1 } from '@c2pa-mesh/proto';
import { useAccess } from '../access';
import { errorText, signing } from '../api';
import { Card, DropZone, ErrorNote, ProjectSelect, RoleNote, Table, download, useLoad } from '../ui';

const INTENTS = [
  [signingV1.SignIntent.UNSPECIFIED, 'Automatic (edit when signed, else create)'],
  [signingV1.SignIntent.CREATE, 'Create: new content'],
  [signingV1.SignIntent.EDIT, 'Edit of this file'],
  [signingV1.SignIntent.UPDATE, 'Update: metadata only'],
] as const;

/** Media types by extension, for files the browser gives no type. */
const TYPES: Record<string, string> = {
  jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp', gif: 'image/gif', tif: 'image/tiff', tiff: 'image/tiff', avif: 'image/avif', heic: 'image/heic',
  mp4: 'video/mp4', mov: 'video/quicktime', mp3: 'audio/mpeg', wav: 'audio/wav', flac: 'audio/flac', m4a: 'audio/mp4', pdf: 'application/pdf', svg: 'image/svg+xml',
};
const typeOf = (file: File) => file.type || TYPES[file.name.split('.').pop()?.toLowerCase() ?? ''] || '';

interface Outcome {
  name: string;
  ok: boolean;
  detail: string;
  signed?: Uint8Array;
  format?: string;
}

export function Sign({ project, setProject }: { project: string; setProject: (id: string) => void }) {
  const [signer, setSigner] = useState('');
  const [intent, setIntent] = useState<number>(signingV1.SignIntent.UNSPECIFIED);
  const [outcomes, setOutcomes] = useState<Outcome[]>([]);
  const [busy, setBusy] = useState(false);
  // A viewer holds no `sign` scope: the page offers no signing (the mesh would refuse it anyway).
  const allowed = useAccess().can('sign');
  const signers = useLoad(async () => (allowed ? (await signing.listSigners({ projectId: project })).signers : []), [project, allowed]);

  async function onFiles(files: File[]) {
    setBusy(true);
    const results: Outcome[] = [];
    for (const file of files) {
      try {
        const res = await signing.sign({ asset: new Uint8Array(await file.arrayBuffer()), format: typeOf(file), projectId: project, signerId: signer, intent, title: file.name });
        results.push({ name: file.name, ok: true, detail: `${res.activeManifestLabel} · ${res.assetSha256}`, signed: res.signedAsset, format: typeOf(file) });
      } catch (err) {
        results.push({ name: file.name, ok: false, detail: errorText(err) });
      }
      setOutcomes([...results]);
    }
    setBusy(false);
  }

  return (
    <>
      <h1>Sign</h1>
      <ErrorNote error={signers.error} />
      <div class="toolbar">
        <ProjectSelect value={project} onChange={setProject} />
        <label>
          Signer
          <select value={signer} onChange={(e) => setSigner((e.target as HTMLSelectElement).value)}>
            <option value="">The project's default</option>
            {(signers.data ?? []).map((s) => (
              <option value={s.id}>
                {s.commonName || s.id} ({s.algorithm}, {s.status})
              </option>
            ))}
          </select>
        </label>
        <label>
          Intent
          <select value={String(intent)} onChange={(e) => setIntent(Number((e.target as HTMLSelectElement).value))}>
            {INTENTS.map(([value, text]) => (
              <option value={String(value)}>{text}</option>
            ))}
          </select>
        </label>
      </div>
      {allowed ? <DropZone label="Files to sign" multiple onFiles={onFiles} /> : <RoleNote what="sign files" />}
      {busy && <p role="status">Signing…</p>}
      {outcomes.length > 0 && (
        <Card title="Signed files">
          <Table label="Signing results" head={['File', 'Result', 'Details', 'Download']}>
            {outcomes.map((o) => (
              <tr>
                <td>{o.name}</td>
                <td>
                  <span class={o.ok ? 'badge active' : 'badge revoked'}>{o.ok ? 'signed' : 'failed'}</span>
                </td>
                <td class="wrap">{o.detail}</td>
                <td>
                  {o.signed && (
                    <button type="button" class="secondary" aria-label={`Download signed ${o.name}`} onClick={() => download(o.name.replace(/(\.[^.]+)?$/, '-signed$1'), o.signed!, o.format ?? '')}>
                      Download
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </Table>
        </Card>
      )}
    </>
  );
}
