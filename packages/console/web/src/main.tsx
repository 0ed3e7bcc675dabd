import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { accountV1 } from '@c2pa-mesh/proto';
import { AccessContext, accessOf } from './access';
import { account, fetchSession, setConsoleProject, signOut, useSession, type Session, type SignedOut } from './api';
import { Audit } from './pages/audit';
import { Certificates } from './pages/certificates';
import { Guide } from './pages/guide';
import { Keys } from './pages/keys';
import { Onboarding } from './pages/onboarding';
import { Members } from './pages/members';
import { Overview } from './pages/overview';
import { Sign } from './pages/sign';
import { Verify } from './pages/verify';
import { Webhooks } from './pages/webhooks';
import { SignIn } from './signin';
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
  ['members', 'Members'],
] as const;
type Page = (typeof PAGES)[number][0];

const pageFromHash = (): Page => {
  const name = location.hash.replace(/^#\/?/, '');
  return (PAGES.find(([id]) => id === name)?.[0] ?? 'overview') as Page;
};

const signedOut = (): SignedOut => ({ certificatePresented: true, signInMethods: ['client-certificate', 'password'] });

function App() {
  const [session, setSession] = useState<Session | SignedOut | undefined>();
  const [page, setPage] = useState<Page>(pageFromHash());
  const [project, setProjectState] = useState(localStorage.getItem('project') ?? '');
  // A person's organizations (undefined for the admin): their projects and what their role allows.
  const [organizations, setOrganizations] = useState<accountV1.Organization[]>();
  const [orgTick, setOrgTick] = useState(0);
  const setProject = (id: string) => {
    localStorage.setItem('project', id);
    setProjectState(id);
  };
  const isAccount = session !== undefined && 'csrfToken' in session && session.method === 'ACCOUNT';
  useEffect(() => {
    fetchSession().then(setSession, () => setSession(signedOut()));
    const onHash = () => setPage(pageFromHash());
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  useEffect(() => {
    const title = PAGES.find(([id]) => id === page)?.[1];
    document.title = `${title} · c2pa-mesh console`;
  }, [page]);
  useEffect(() => {
    if (!isAccount) return setOrganizations(undefined);
    account.listOrganizations({}).then(
      (res) => setOrganizations(res.organizations),
      () => setOrganizations([]),
    );
  }, [isAccount, orgTick]);
  // A person's calls act on one of their projects: the chosen one while it is theirs, else their first.
  const reachable = accessOf(isAccount ? (organizations ?? []) : undefined, project, () => {}).projects;
  const actingProject = isAccount ? (reachable.find((p) => p.projectId === project) ?? reachable[0])?.projectId ?? '' : '';
  setConsoleProject(actingProject);
  const access = accessOf(isAccount ? (organizations ?? []) : undefined, actingProject, () => setOrgTick((t) => t + 1));
  useEffect(() => {
    if (isAccount && organizations && actingProject !== project) setProject(actingProject);
  }, [isAccount, organizations, actingProject]);

  if (!session) return <p role="status">Loading…</p>;
  if (!('csrfToken' in session)) return <SignIn certificatePresented={session.certificatePresented} signInMethods={session.signInMethods} onSession={setSession} />;
  useSession(session, () => setSession(signedOut()));
  if (isAccount && organizations === undefined) return <p role="status">Loading…</p>;

  return (
    <AccessContext.Provider value={access}>
      <header class="top">
        <a class="brand" href="#/overview">
          c2pa-mesh
        </a>
        <nav aria-label="Console pages">
          <ul>
            {/* Reviewing applications is the mesh admin's work: a person's console does not offer it. */}
            {PAGES.filter(([id]) => id !== 'onboarding' || !isAccount).map(([id, title]) => (
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
          <button type="button" class="secondary" onClick={() => signOut().then(() => setSession(signedOut()))}>
            Sign out
          </button>
        </div>
      </header>
      {/* A person's pages start afresh on another project: every figure on them is that project's. */}
      <main key={isAccount ? actingProject : 'mesh'}>
        {isAccount && access.projects.length === 0 && page !== 'members' && (
          <p class="note" role="status">
            You are in no organization with a project yet: create one, or accept an invitation, on the <a href="#/members">Members</a> page.
          </p>
        )}
        {page === 'overview' && <Overview project={actingProject} setProject={setProject} />}
        {page === 'keys' && <Keys project={isAccount ? actingProject : project} setProject={setProject} />}
        {page === 'audit' && <Audit project={actingProject} setProject={setProject} />}
        {page === 'verify' && <Verify />}
        {page === 'sign' && <Sign project={isAccount ? actingProject : project} setProject={setProject} />}
        {page === 'certificates' && <Certificates />}
        {page === 'webhooks' && <Webhooks project={isAccount ? actingProject : project} setProject={setProject} />}
        {page === 'guide' && <Guide project={isAccount ? actingProject : project} setProject={setProject} />}
        {page === 'members' && <Members />}
        {page === 'onboarding' && <Onboarding />}
      </main>
    </AccessContext.Provider>
  );
}

render(<App />, document.getElementById('app')!);
