import { useState } from 'preact/hooks';
import { Card, CopyButton, ProjectSelect } from '../ui';

function snippets(base: string, project: string) {
  const key = 'c2m_YOUR_API_KEY';
  return [
    {
      lang: 'curl',
      code: `# Verify a file (any key with the verify scope)
curl --fail -s --cacert mesh-ca.pem ${base}/c2pamesh.verification.v1.VerificationService/Verify \\
  -H "Authorization: Bearer ${key}" -H "Content-Type: application/json" \\
  -d "{\\"asset\\":\\"$(base64 -w0 photo.jpg)\\"}"

# Sign a file for project ${project || 'PROJECT_ID'}
curl --fail -s --cacert mesh-ca.pem ${base}/c2pamesh.signing.v1.SigningService/Sign \\
  -H "Authorization: Bearer ${key}" -H "Content-Type: application/json" \\
  -d "{\\"asset\\":\\"$(base64 -w0 photo.jpg)\\",\\"format\\":\\"image/jpeg\\"}"`,
    },
    {
      lang: 'TypeScript',
      code: `// npm install @connectrpc/connect @connectrpc/connect-node (stubs: buf generate on the mesh's protos)
import { createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { readFile } from 'node:fs/promises';
import { SigningService } from './gen/c2pamesh/signing/v1/signing_pb.js';

const transport = createConnectTransport({
  baseUrl: '${base}',
  httpVersion: '2',
  nodeOptions: { ca: await readFile('mesh-ca.pem') }, // the mesh CA signs this server's certificate
  interceptors: [(next) => (req) => { req.header.set('Authorization', 'Bearer ${key}'); return next(req); }],
});
const signing = createClient(SigningService, transport);
const res = await signing.sign({ asset: await readFile('photo.jpg'), format: 'image/jpeg' });
console.log(res.activeManifestLabel, res.assetSha256); // project ${project || 'of the key'}`,
    },
    {
      lang: 'Python',
      code: `import base64, requests

BASE = "${base}"
KEY = "${key}"  # a key of project ${project || 'PROJECT_ID'}

with open("photo.jpg", "rb") as f:
    asset = base64.b64encode(f.read()).decode()
r = requests.post(f"{BASE}/c2pamesh.verification.v1.VerificationService/Verify",
                  json={"asset": asset},
                  headers={"Authorization": f"Bearer {KEY}"},
                  verify="mesh-ca.pem")
r.raise_for_status()
print(r.json()["validationState"])`,
    },
    {
      lang: 'C#',
      code: `using System.Net.Http.Json;

// Trust mesh-ca.pem first (system store, or HttpClientHandler.ServerCertificateCustomValidationCallback).
var http = new HttpClient { BaseAddress = new Uri("${base}/") };
http.DefaultRequestHeaders.Authorization = new("Bearer", "${key}"); // project ${project || 'PROJECT_ID'}
var asset = Convert.ToBase64String(await File.ReadAllBytesAsync("photo.jpg"));
var res = await http.PostAsJsonAsync("c2pamesh.verification.v1.VerificationService/Verify", new { asset });
res.EnsureSuccessStatusCode();
Console.WriteLine(await res.Content.ReadAsStringAsync());`,
    },
  ];
}

export function Guide({ project, setProject }: { project: string; setProject: (id: string) => void }) {
  const [lang, setLang] = useState('curl');
  const base = location.origin;
  const all = snippets(base, project);
  const shown = all.find((s) => s.lang === lang) ?? all[0];
  return (
    <>
      <h1>Integration guide</h1>
      <p>
        Every call is <code>POST {base}/&lt;service&gt;/&lt;Method&gt;</code> with Connect, gRPC or gRPC-Web, JSON or binary. Create an API key on the API keys page; the mesh CA
        (<code>pki/mesh-ca.pem</code>) signs this server's certificate.
      </p>
      <div class="toolbar">
        <ProjectSelect value={project} onChange={setProject} />
      </div>
      <div class="tabs" role="tablist" aria-label="Language">
        {all.map((s) => (
          <button type="button" role="tab" aria-selected={s.lang === lang} class={s.lang === lang ? 'tab selected' : 'tab'} onClick={() => setLang(s.lang)}>
            {s.lang}
          </button>
        ))}
      </div>
      <Card title={`${shown.lang} example`}>
        <pre tabIndex={0} aria-label={`${shown.lang} example code`}>
          <code>{shown.code}</code>
        </pre>
        <CopyButton text={shown.code} label={`Copy the ${shown.lang} example`} />
      </Card>
    </>
  );
}
