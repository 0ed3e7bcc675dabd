import { useState } from 'preact/hooks';
import { account, errorText, signIn, type Session } from './api';

/** A form's named field as a string. */
const field = (form: HTMLFormElement, name: string) => String(new FormData(form).get(name) ?? '');

/** Register, then confirm the address with the mailed code; then the person signs in. */
function Register({ onVerified }: { onVerified: (email: string) => void }) {
  const [email, setEmail] = useState<string>();
  const [error, setError] = useState<string>();
  async function register(e: Event) {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    setError(undefined);
    try {
      await account.register({ email: field(form, 'email'), displayName: field(form, 'name'), password: field(form, 'password') });
      setEmail(field(form, 'email'));
    } catch (err) {
      setError(errorText(err));
    }
  }
  async function verify(e: Event) {
    e.preventDefault();
    setError(undefined);
    try {
      await account.verifyEmail({ email: email!, code: field(e.target as HTMLFormElement, 'code').trim() });
      onVerified(email!);
    } catch (err) {
      setError(errorText(err));
    }
  }
  return (
    <section class="card" aria-labelledby="h-register">
      <h2 id="h-register">Create an account</h2>
      {email === undefined ? (
        <form class="form" onSubmit={register}>
          <label>
            E-mail address
            <input name="email" type="email" autocomplete="email" required maxLength={254} />
          </label>
          <label>
            Your name
            <input name="name" autocomplete="name" maxLength={100} />
          </label>
          <label>
            Password (at least 12 characters)
            <input name="password" type="password" autocomplete="new-password" required minLength={12} maxLength={256} />
          </label>
          <button type="submit">Create the account</button>
        </form>
      ) : (
        <form class="form" onSubmit={verify}>
          <p role="status">A code was mailed to {email}.</p>
          <label>
            Code from the e-mail
            <input name="code" inputMode="numeric" autocomplete="one-time-code" required maxLength={12} />
          </label>
          <button type="submit">Verify the address</button>
        </form>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}

/**
 * The sign-in page: a person's account (e-mail and password), creating one, and the mesh's admin
 * client certificate. Each method is one section, so another method adds one.
 */
export function SignIn({ certificatePresented, signInMethods, onSession }: { certificatePresented: boolean; signInMethods: string[]; onSession: (s: Session) => void }) {
  const [error, setError] = useState<string>();
  const [certificateError, setCertificateError] = useState<string>();
  const [verified, setVerified] = useState<string>();
  const passwords = signInMethods.includes('password');
  async function withPassword(e: Event) {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    setError(undefined);
    signIn({ method: 'password', email: field(form, 'email'), password: field(form, 'password') }).then(onSession, (err: Error) => setError(err.message));
  }
  return (
    <main class="signin">
      <h1>c2pa-mesh console</h1>
      {passwords && (
        <section class="card" aria-labelledby="h-signin">
          <h2 id="h-signin">Sign in with your account</h2>
          {verified && <p role="status">{verified} is verified: sign in.</p>}
          <form class="form" onSubmit={withPassword}>
            <label>
              E-mail address
              <input name="email" type="email" autocomplete="username" required maxLength={254} defaultValue={verified} />
            </label>
            <label>
              Password
              <input name="password" type="password" autocomplete="current-password" required maxLength={256} />
            </label>
            <button type="submit">Sign in</button>
          </form>
          {error && (
            <p class="error" role="alert">
              {error}
            </p>
          )}
        </section>
      )}
      {passwords && <Register onVerified={setVerified} />}
      <section class="card" aria-labelledby="h-admin">
        <h2 id="h-admin">Mesh administrator</h2>
        <p>
          Sign in with the mesh's admin client certificate (<code>pki/admin.pem</code> and <code>pki/admin-key.pem</code> in the data dir), presented by your browser.
        </p>
        {!certificatePresented && <p class="muted">Your browser has not presented a client certificate on this connection yet.</p>}
        <button type="button" onClick={() => signIn().then(onSession, (err: Error) => setCertificateError(err.message))}>
          Sign in with the admin certificate
        </button>
        {certificateError && (
          <p class="error" role="alert">
            {certificateError}
          </p>
        )}
      </section>
    </main>
  );
}
