import { useState } from 'preact/hooks';
import { verificationV1 } from '@c2pa-mesh/proto';
import { errorText, verification } from '../api';
import { Card, DropZone, ErrorNote, when } from '../ui';

type Result = verificationV1.VerifyResponse;
const STATES: Record<number, string> = {
  [verificationV1.ValidationState.TRUSTED]: 'Trusted',
  [verificationV1.ValidationState.VALID]: 'Valid',
  [verificationV1.ValidationState.INVALID]: 'Invalid',
};

interface ManifestNode {
  label: string;
  title?: string;
  signer?: string;
  ingredients: { title: string; relationship: string; child?: ManifestNode }[];
}

/** The manifest tree from the manifest store JSON (c2pa-rs's Reader JSON): the active manifest and, under it, its ingredients' manifests. */
function manifestTree(json: string, label: string, seen = new Set<string>()): ManifestNode | undefined {
  let store: { manifests?: Record<string, { title?: string; signature_info?: { issuer?: string; common_name?: string }; ingredients?: { title?: string; relationship?: string; active_manifest?: string }[] }> };
  try {
    store = JSON.parse(json);
  } catch {
    return undefined;
  }
  const build = (key: string): ManifestNode | undefined => {
    const manifest = store.manifests?.[key];
    if (!manifest || seen.has(key)) return undefined;
    seen.add(key);
    return {
      label: key,
      title: manifest.title,
      signer: manifest.signature_info?.common_name ?? manifest.signature_info?.issuer,
      ingredients: (manifest.ingredients ?? []).map((i) => ({
        title: i.title ?? '(untitled)',
        relationship: i.relationship ?? '',
        child: i.active_manifest ? build(i.active_manifest) : undefined,
      })),
    };
  };
  return build(label);
}

function Tree({ node }: { node: ManifestNode }) {
  return (
    <details open>
      <summary>
        {node.title ?? 'Manifest'} <code>{node.label}</code>
        {node.signer ? ` — signed by ${node.signer}` : ''}
      </summary>
      {node.ingredients.length > 0 && (
        <ul class="tree">
          {node.ingredients.map((i) => (
            <li>
              Ingredient “{i.title}” ({i.relationship}){i.child ? <Tree node={i.child} /> : <span class="muted"> no manifest</span>}
            </li>
          ))}
        </ul>
      )}
    </details>
  );
}

function Codes({ title, entries, kind }: { title: string; entries: verificationV1.ValidationStatus[]; kind: string }) {
  if (entries.length === 0) return null;
  return (
    <div>
      <h3>
        {title} ({entries.length})
      </h3>
      <ul class={`codes ${kind}`}>
        {entries.map((e) => (
          <li>
            <code>{e.code}</code> {e.explanation}
            {e.url && <span class="muted"> ({e.url})</span>}
          </li>
        ))}
      </ul>
    </div>
  );
}

export function Verify() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [result, setResult] = useState<{ name: string; res: Result }>();

  async function onFiles(files: File[]) {
    const file = files[0];
    setBusy(true);
    setError(undefined);
    setResult(undefined);
    try {
      const res = await verification.verify({ asset: new Uint8Array(await file.arrayBuffer()) });
      setResult({ name: file.name, res });
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  const res = result?.res;
  const state = res ? STATES[res.validationState] ?? 'Unknown' : '';
  const tree = res && res.activeManifestLabel ? manifestTree(res.manifestStoreJson, res.activeManifestLabel) : undefined;
  return (
    <>
      <h1>Verify</h1>
      <DropZone label="File to verify" onFiles={onFiles} />
      {busy && <p role="status">Verifying…</p>}
      <ErrorNote error={error} />
      {res && (
        <>
          <Card title={`Result for ${result!.name}`} id="verify-result">
            <p>
              <span class={`state state-${state.toLowerCase()}`} data-testid="validation-state">
                {state}
              </span>
            </p>
            <dl class="facts">
              <dt>Signer</dt>
              <dd>{res.signer || '—'}</dd>
              <dt>Time-stamp</dt>
              <dd>{when(res.signedAt) || '—'}</dd>
              <dt>Certificate status</dt>
              <dd>{res.certificateStatus || '—'}{res.revocationReason ? ` (${res.revocationReason}, ${when(res.revokedAt)})` : ''}</dd>
              <dt>Format</dt>
              <dd>{res.format}</dd>
              <dt>Title</dt>
              <dd>{res.title || '—'}</dd>
              <dt>Claim generator</dt>
              <dd>{res.claimGenerator || '—'}</dd>
              <dt>SHA-256</dt>
              <dd>
                <code class="wrap">{res.assetSha256}</code>
              </dd>
              <dt>In this registry</dt>
              <dd>{res.registered ? `yes (${res.assetId})` : 'no'}</dd>
            </dl>
          </Card>
          <Card title="Manifest tree">{tree ? <Tree node={tree} /> : <p class="muted">No manifest.</p>}</Card>
          <Card title="Validation codes">
            <Codes title="Errors" entries={res.errors} kind="errors" />
            <Codes title="Warnings" entries={res.warnings} kind="warnings" />
            <Codes title="Successes" entries={res.successes} kind="successes" />
          </Card>
        </>
      )}
    </>
  );
}
