import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_URL } from './connection.js';
import { describeFailure } from './errors.js';
import { flagNamesOf } from './flag-names.js';
import { CliError, write, type CliIo } from './io.js';
import { certificateChain, issueCertificate, listCertificates, revokeCertificate } from './commands/certs.js';
import { createKey, createProject, listAudit, listKeys, listProjects, revokeKey, rotateKey, showStats } from './commands/registry.js';
import { signHash } from './commands/sign-hash.js';
import { signFiles } from './commands/sign.js';
import { verifyFiles } from './commands/verify.js';
import { verifyProductCertificate } from './commands/mc4p-verify.js';
import { DEFAULT_LOG_URL, runWitness, verifyInLog } from './commands/log.js';
import { login, logout } from './commands/login.js';

const VERSION = '0.1.0';

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive whole number');
  return n;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** The options every command takes: where the mesh is and who the CLI is to it. */
function withConnection(command: Command): Command {
  return command
    .option('--url <url>', `the mesh's TLS listener (env C2PA_MESH_URL)`, undefined)
    .option('--api-key <key>', 'authenticate with an API key instead of a client certificate (env C2PA_MESH_API_KEY)')
    .option('--cert <file>', 'client certificate, PEM (default: the admin certificate in the data dir)')
    .option('--key <file>', 'private key of --cert, PEM')
    .option('--ca <file>', 'mesh CA certificate to trust, PEM (default: <data dir>/pki/mesh-ca.pem)')
    .option('--data-dir <dir>', 'the mesh data dir holding pki/ (env MESH_DATA_DIR, default ./.data)')
    .option('--json', 'print machine-readable JSON');
}

/** Builds the c2pa-mesh program; `finish` receives each command's exit code. */
export function buildProgram(io: CliIo, finish: (code: number) => void): Command {
  const program = new Command('c2pa-mesh')
    .description(`Command-line client of a c2pa-mesh: sign and verify media with C2PA Content Credentials, manage projects, API keys and certificates.\nTalks Connect over TLS to ${DEFAULT_URL} by default, with the admin certificate from ./.data/pki (or $MESH_DATA_DIR/pki), or an API key.`)
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .exitOverride()
    // The mesh names request fields in its messages; the connection turns them into this command's flags.
    .hook('preAction', (_program, action) => {
      action.setOptionValue('flagNames', flagNamesOf(action));
    });
  const run = (work: () => Promise<number>) => async () => finish(await work());

  withConnection(program.command('sign').argument('<files...>', 'media files or directories (walked)'))
    .description('sign files: embed a C2PA manifest and write the signed copies under --out')
    .option('--manifest <file>', 'manifest definition JSON (default: the mesh\'s, a capture by a device)')
    .option('--format <mime>', 'MIME type of every file (default: from the extension, else the bytes)')
    .option('--out <dir>', 'where the signed copies go, keeping relative paths', 'signed')
    .option('--title <title>', 'title recorded in the registry (default: the file name)')
    .option('--signer <id>', 'signer id (see ListSigners; default: the project\'s default signer)')
    .option('--project <id>', 'project to register under (needed with the admin certificate)')
    .option('--tag <tag>', 'tag recorded with each asset; repeatable', collect)
    .addOption(
      new Option('--intent <intent>', 'create: new content (a digitalSourceType is required); edit: the file becomes the parent ingredient, its history kept; update: an update manifest (default: edit a file that has Content Credentials, create otherwise)').choices(['create', 'edit', 'update']),
    )
    .option('--concurrency <n>', 'files signed at the same time', positiveInteger, 4)
    .option('--quiet', 'no progress output')
    .action((files: string[], options) => run(() => signFiles(files, options, io))());

  withConnection(program.command('verify').argument('<files...>', 'media files or directories (walked)'))
    .description('verify files and print a table: file, state, signer, time, reason')
    .option('--format <mime>', 'MIME type of every file (default: detected from the bytes)')
    .option('--concurrency <n>', 'files verified at the same time', positiveInteger, 4)
    .option('--require-trusted', 'exit 1 unless every file is Trusted (default: Valid passes too)')
    .option('--quiet', 'no progress output')
    .action((files: string[], options) => run(() => verifyFiles(files, options, io))());

  withConnection(program.command('sign-hash').argument('<hash-or-file>', 'sha256:<hex>, or a file whose SHA-256 is computed here (the file is not sent)'))
    .description('sign a content hash with descriptive metadata (no upload)')
    .requiredOption('--headline <text>', 'what the content shows')
    .option('--author <name>', 'who captured or created it')
    .addOption(new Option('--content-type <type>', 'how it came about').choices(['AUTHENTIC', 'AI_ENHANCED', 'AI_GENERATED']))
    .option('--location <place>', 'where it was captured')
    .option('--recorded-at <time>', 'when it was captured, RFC 3339')
    .addOption(new Option('--capture-mode <mode>', 'how it was captured').choices(['PHOTO', 'VIDEO', 'AUDIO', 'OTHER']))
    .option('--format <mime>', 'MIME type of the content')
    .option('--tag <tag>', 'tag; repeatable', collect)
    .option('--project <id>', 'project to register under')
    .option('--signer <id>', 'signer id')
    .action((arg: string, options) => run(() => signHash(arg, options, io))());

  const mc4p = program.command('mc4p').description('product certificates (Mintall MC4P)');
  mc4p
    .command('verify')
    .argument('<certificate>', 'the full certificate JSON-LD (GET …/mc4p/{image_id}/certificate?full=true)')
    .argument('<image>', 'the image bytes as observed')
    .description('verify a product certificate offline: JWT proof against a cached JWKS, domain, bound fields, and (full profile) the image itself')
    .requiredOption('--domain <host>', 'the domain where the image was observed')
    .option('--field <name=value>', 'a bound field to check, e.g. productId=…; repeatable', collect)
    .addOption(new Option('--profile <profile>', 'Mintall verification profile').choices(['minimal', 'standard', 'full']).default('standard'))
    .option('--jwks <file>', 'the cached JWKS (GET /.well-known/jwks.json)')
    .option('--trust-anchors <file>', 'PEM trust anchors for the C2PA check (e.g. .data/pki/c2pa-root.pem)')
    .option('--json', 'print machine-readable JSON')
    .action((certificate: string, image: string, options) => run(() => verifyProductCertificate(certificate, image, options, io))());

  const log = program.command('log').description('the mesh\'s transparency log of claim signatures (C2SP tlog-tiles)');
  log
    .command('verify')
    .argument('<file>', 'a signed media file')
    .description('check offline, from the log\'s tiles, that the file\'s claim signature is in the log (and, with --state, that the log only grew)')
    .option('--log-url <url>', `the log's tiles (env C2PA_MESH_LOG_URL)`, undefined)
    .option('--log-key <vkey>', 'the log\'s note verifier key, <origin>+<id>+<key> (env C2PA_MESH_LOG_KEY; default: the key the log publishes)')
    .option('--state <file>', 'remember the verified checkpoint here; the next run checks consistency with it')
    .option('--witness-key <vkey>', 'a witness whose cosignature to report; repeatable', collect)
    .option('--json', 'print machine-readable JSON')
    .action((file: string, options) => run(() => verifyInLog(file, options, io))());
  log
    .command('witness')
    .description('verify the log\'s consistency from its tiles and cosign its checkpoints (tlog-cosignature)')
    .option('--log-url <url>', `the log's tiles (default ${DEFAULT_LOG_URL})`, undefined)
    .requiredOption('--log-key <vkey>', 'the log\'s note verifier key, <origin>+<id>+<key>')
    .requiredOption('--name <name>', 'the witness\'s name, e.g. witness.example.com/w1')
    .requiredOption('--key <file>', 'the witness\'s Ed25519 private key, PEM (made, 0600, when absent)')
    .requiredOption('--state <file>', 'the last checkpoint this witness cosigned')
    .option('--interval <ms>', 'check again every <ms> (default: once)', positiveInteger)
    .option('--json', 'print machine-readable JSON')
    .action((options) => run(() => runWitness(options, io))());
  withConnection(program.command('login'))
    .description('log in as a person (AccountService): the tokens are kept in the config dir, mode 0600, and used by every command until logout')
    .option('--email <address>', 'your e-mail address (for a password login)')
    .option('--password-stdin', 'read the password from standard input (else env C2PA_MESH_PASSWORD; with neither, the login is approved in a browser)')
    .option('--device', 'log in by approving a code in a browser, even when C2PA_MESH_PASSWORD is set')
    .option('--project <id>', 'act on this project of your organization, with the scopes of your role')
    .action((options) => run(() => login(options, io))());
  withConnection(program.command('logout'))
    .description('end the session of `login` and forget its tokens')
    .action((options) => run(() => logout(options, io))());

  const keys = program.command('keys').description('API keys: create, list, rotate, revoke');
  withConnection(keys.command('create'))
    .description('create an API key; its secret is shown once')
    .option('--project <id>', 'project the key acts for')
    .requiredOption('--name <name>', 'display name, e.g. "CMS production"')
    .option('--scope <scope>', 'scope to grant (sign, verify, registry.read, registry.write, ca.issue, ca.revoke, admin); repeatable; default sign and verify', collect)
    .option('--max-asset-bytes <n>', 'largest asset the key may send', positiveInteger)
    .option('--requests-per-minute <n>', 'rate limit', positiveInteger)
    .option('--expires-at <time>', 'RFC 3339 expiry')
    .option('--origin <origin>', 'allowed browser origin; repeatable', collect)
    .action((options) => run(() => createKey(options, io))());
  withConnection(keys.command('list'))
    .description('list a project\'s keys')
    .option('--project <id>', 'project (default: the caller\'s)')
    .option('--all', 'include revoked and expired keys')
    .action((options) => run(() => listKeys(options, io))());
  withConnection(keys.command('rotate').argument('<key-id>'))
    .description('replace a key; the old one keeps working for the grace period')
    .option('--grace-hours <n>', 'hours the old key stays valid (default 48)', positiveInteger)
    .action((keyId: string, options) => run(() => rotateKey(keyId, options, io))());
  withConnection(keys.command('revoke').argument('<key-id>'))
    .description('revoke a key at once')
    .option('--reason <text>', 'why, kept with the key')
    .action((keyId: string, options) => run(() => revokeKey(keyId, options, io))());

  const projects = program.command('projects').description('projects: create, list');
  withConnection(projects.command('create').argument('<name>'))
    .description('create a project')
    .option('--description <text>')
    .action((name: string, options) => run(() => createProject(name, options, io))());
  withConnection(projects.command('list')).description('list projects').action((options) => run(() => listProjects(options, io))());

  const certs = program.command('certs').description('certificates: issue, list, revoke, chain');
  withConnection(certs.command('issue'))
    .description('issue a certificate from a CSR, or with a key the CA generates')
    .addOption(new Option('--profile <profile>', 'what the certificate is for').choices(['C2PA_SIGNING', 'MESH_CLIENT', 'MESH_SERVER']).makeOptionMandatory())
    .option('--common-name <cn>', 'subject common name')
    .option('--organization <o>', 'subject organization')
    .addOption(new Option('--key-algorithm <alg>', 'key algorithm').choices(['ES256', 'ES384', 'PS256', 'ED25519']))
    .option('--project <id>', 'project to bind it to')
    .option('--days <n>', 'validity in days', positiveInteger)
    .option('--csr <file>', 'PKCS#10 request, PEM (default: the CA generates the key)')
    .option('--require-activation', 'issue PENDING, to be activated later')
    .option('--san-uri <uri>', 'URI subject alternative name; repeatable', collect)
    .option('--san-dns <name>', 'DNS subject alternative name; repeatable', collect)
    .option('--san-ip <ip>', 'IP subject alternative name; repeatable', collect)
    .option('--out <prefix>', 'write <prefix>.pem (certificate and chain) and <prefix>-key.pem (a generated key)')
    .action((options) => run(() => issueCertificate(options, io))());
  withConnection(certs.command('list'))
    .description('list certificates, newest first')
    .option('--profile <profile>')
    .option('--status <status>', 'PENDING, ACTIVE, REVOKED or EXPIRED')
    .option('--project <id>')
    .action((options) => run(() => listCertificates(options, io))());
  withConnection(certs.command('revoke').argument('<certificate-id>'))
    .description('revoke a certificate (OCSP, CRL and signing see it at once)')
    .option('--reason <reason>', 'CRLReason name or code, e.g. keyCompromise, superseded', 'unspecified')
    .action((id: string, options) => run(() => revokeCertificate(id, options, io))());
  withConnection(certs.command('chain'))
    .description('print the CA chain, PEM')
    .option('--profile <profile>', 'C2PA_SIGNING (default), MESH_CLIENT or MESH_SERVER')
    .option('--certificate <id>', 'the chain of this certificate instead')
    .action((options) => run(() => certificateChain(options, io))());

  withConnection(program.command('audit'))
    .description('the audit log, newest first')
    .option('--project <id>')
    .option('--operation <name>', 'RPC method, e.g. Sign')
    .option('--status <status>', 'SUCCESS or ERROR')
    .option('--since <time>', 'RFC 3339')
    .option('--until <time>', 'RFC 3339')
    .option('--limit <n>', 'events to show', positiveInteger, 50)
    .action((options) => run(() => listAudit(options, io))());

  withConnection(program.command('stats'))
    .description('usage figures: requests, success rate, per project, per format')
    .option('--project <id>')
    .action((options) => run(() => showStats(options, io))());

  return program;
}

/**
 * Runs the CLI on `argv` (as process.argv: node, script, ...args) and returns the exit code:
 * 0 when everything succeeded, 1 when anything failed, 2 for usage errors.
 */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let code = 0;
  const program = buildProgram(io, (c) => (code = c));
  try {
    await program.parseAsync(argv);
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version "fail" with exit code 0; parsing errors are usage errors.
      return error.exitCode === 0 ? 0 : 2;
    }
    if (error instanceof CliError) {
      write(io.stderr, `c2pa-mesh: ${error.message}`);
      return error.exitCode;
    }
    write(io.stderr, `c2pa-mesh: ${describeFailure(error, (program.commands.find((c) => c.name() === argv[2])?.opts() as { url?: string } | undefined)?.url ?? DEFAULT_URL)}`);
    return 1;
  }
}
