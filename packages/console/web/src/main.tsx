import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { fetchSession, signIn, signOut, useSession, type Session } from './api';
import { Audit } from './pages/audit';
import { Certificates } from './pages/certificates';
import { Guide } from './pages/guide';
import { Keys } from './pages/keys';
import { Onboarding } from './pages/onboarding';
import { Overview } from './pages/overview';
import { Sign } from './pages/sign';
import { Verify } from './pages/verify';
import { Webhooks } from './pages/webhooks';
import './styles.css';

const PAGES = [
  ['overview', 'Overview'],
  ['keys', 'API keys'],
  ['audit', 'Audit log'],
  ['verify', 'Verify'],
  ['sign', 'Sign'],
  ['certificates', 'Certificates'],
  ['webhooks', 'Webhooks'],
  ['guide', 'Integration guide'],
  ['onboarding', 'Onboarding'],
] as const;
type Page = (typeof PAGES)[number][0];

const pageFromHash = (): Page => {
  const name = location.hash.replace(/^#\/?/, '');
  return (PAGES.find(([id]) => id === name)?.[0] ?? 'overview') as Page;
};

function SignIn({ certificatePresented, onSession }: { certificatePresented: boolean; onSession: (s: Session) => void }) {
  const [error, setError] = useState<string>();
  return (
    <main class="signin">
      <h1>c2pa-mesh console</h1>
      <p>Sign in with the mesh's admin client certificate (<code>pki/admin.pem</code> and <code>pki/admin-key.pem</code> in the data dir), presented by your browser.</p>
      {!certificatePresented && <p class="muted">Your browser has not presented a client certificate on this connection yet.</p>}
      <button type="button" onClick={() => signIn().then(onSession, (err: Error) => setError(err.message))}>
        Sign in with the admin certificate
      </button>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </main>
  );
}

function App() {
  const [session, setSession] = useState<Session | { certificatePresented: boolean } | undefined>();
  const [page, setPage] = useState<Page>(pageFromHash());
  const [project, setProjectState] = useState(localStorage.getItem('project') ?? '');
  const setProject = (id: string) => {
    localStorage.setItem('project', id);
    setProjectState(id);
  };
  useEffect(() => {
    fetchSession().then(setSession, () => setSession({ certificatePresented: false }));
    const onHash = () => setPage(pageFromHash());
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  useEffect(() => {
    const title = PAGES.find(([id]) => id === page)?.[1];
    document.title = `${title} · c2pa-mesh console`;
  }, [page]);

  if (!session) return <p role="status">Loading…</p>;
  if (!('csrfToken' in session)) return <SignIn certificatePresented={session.certificatePresented} onSession={setSession} />;
  useSession(session, () => setSession({ certificatePresented: true }));

  return (
    <>
      <header class="top">
        <a class="brand" href="#/overview">
          c2pa-mesh
        </a>
        <nav aria-label="Console pages">
          <ul>
            {PAGES.map(([id, title]) => (
              <li>
                <a href={`#/${id}`} aria-current={id === page ? 'page' : undefined}>
                  {title}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="who">
          <span class="muted">{session.subject}</span>
          <button type="button" class="secondary" onClick={() => signOut().then(() => setSession({ certificatePresented: true }))}>
            Sign out
          </button>
        </div>
      </header>
      <main>
        {page === 'overview' && <Overview />}
        {page === 'keys' && <Keys project={project} setProject={setProject} />}
        {page === 'audit' && <Audit />}
        {page === 'verify' && <Verify />}
        {page === 'sign' && <Sign project={project} setProject={setProject} />}
        {page === 'certificates' && <Certificates />}
        {page === 'webhooks' && <Webhooks project={project} setProject={setProject} />}
        {page === 'guide' && <Guide project={project} setProject={setProject} />}
        {page === 'onboarding' && <Onboarding />}
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
