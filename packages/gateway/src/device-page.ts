import { createHash } from 'node:crypto';
import { send, type Exchange } from './exchange.js';

/**
 * `GET /device`: where a person approves a device login (`c2pa-mesh login` without a password).
 * A plain page: the person signs in with their address and password (AccountService/Login) and
 * approves the code the device shows (AccountService/ApproveDeviceLogin), both as Connect JSON
 * calls from the page to the same origin. The access token lives only in the page's memory.
 */
const SCRIPT = `
const $ = (id) => document.getElementById(id);
const code = new URLSearchParams(location.search).get('user_code');
if (code) $('code').value = code;
async function rpc(method, body, token) {
  const res = await fetch('/c2pamesh.account.v1.AccountService/' + method, {
    method: 'POST',
    headers: Object.assign({ 'content-type': 'application/json' }, token ? { authorization: 'Bearer ' + token } : {}),
    body: JSON.stringify(body),
  });
  const answer = await res.json();
  if (!res.ok) throw new Error(answer.message || res.statusText);
  return answer;
}
$('approve').addEventListener('submit', async (event) => {
  event.preventDefault();
  const status = $('status');
  status.className = '';
  status.textContent = 'Approving…';
  try {
    const login = await rpc('Login', { email: $('email').value, password: $('password').value });
    const approved = await rpc('ApproveDeviceLogin', { userCode: $('code').value }, login.tokens.accessToken);
    await rpc('Logout', { refreshToken: login.tokens.refreshToken });
    status.textContent = 'Approved: ' + (approved.clientName || 'the device') + ' is now logged in as ' + login.user.email + '. You can close this page.';
  } catch (err) {
    status.className = 'error';
    status.textContent = err.message;
  }
  $('password').value = '';
});
`;

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Approve a device · c2pa-mesh</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 28rem; margin: 3rem auto; padding: 0 1rem; }
label { display: block; margin-top: 1rem; }
input { display: block; width: 100%; padding: .4rem; font-size: 1rem; box-sizing: border-box; }
#code { font-family: monospace; letter-spacing: .2em; text-transform: uppercase; }
button { margin-top: 1.5rem; padding: .5rem 1rem; font-size: 1rem; }
.error { color: #b00020; }
</style>
</head>
<body>
<main>
<h1>Approve a device</h1>
<p>A device (such as <code>c2pa-mesh login</code>) asked to act as you. Sign in and enter the code it shows. Approve only a code you started yourself.</p>
<form id="approve">
<label for="code">Code from the device</label>
<input id="code" name="code" required autocomplete="off" placeholder="WDJB-MJHT" maxlength="12">
<label for="email">E-mail address</label>
<input id="email" name="email" type="email" required autocomplete="username">
<label for="password">Password</label>
<input id="password" name="password" type="password" required autocomplete="current-password">
<button type="submit">Sign in and approve</button>
</form>
<p id="status" role="status" aria-live="polite"></p>
</main>
<script>${SCRIPT}</script>
</body>
</html>
`;

const BODY = Buffer.from(PAGE, 'utf8');
// Only this script runs: no other inline script, no script from anywhere, no framing.
const SCRIPT_HASH = createHash('sha256').update(SCRIPT, 'utf8').digest('base64');
const HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'content-security-policy': `default-src 'none'; script-src 'sha256-${SCRIPT_HASH}'; style-src 'unsafe-inline'; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'`,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

export async function devicePage(exchange: Exchange): Promise<void> {
  send(exchange, 200, BODY, HEADERS);
}
