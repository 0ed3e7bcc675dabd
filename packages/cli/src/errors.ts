import { Code, ConnectError } from '@connectrpc/connect';
import { isMeshError } from '@c2pa-mesh/errors';
import { CliError } from './io.js';

/** A failure in words for the terminal: the mesh's own message, with a hint where one helps. */
export function describeFailure(error: unknown, url?: string): string {
  if (error instanceof CliError) return error.message;
  if (isMeshError(error)) return error.message;
  if (error instanceof ConnectError) {
    const code = Code[error.code].replace(/[A-Z]/g, (c, i) => (i === 0 ? c.toLowerCase() : `_${c.toLowerCase()}`));
    if (error.code === Code.Unavailable && url) return `cannot reach the mesh at ${url}: ${error.rawMessage} (is it running? --url sets where)`;
    if (error.code === Code.Unauthenticated) return `${code}: ${error.rawMessage} (use the admin certificate, --cert/--key, or --api-key)`;
    return `${code}: ${error.rawMessage}`;
  }
  const errno = (error as NodeJS.ErrnoException)?.code;
  if (errno === 'ENOENT' || errno === 'EACCES' || errno === 'EISDIR') return (error as Error).message;
  return error instanceof Error ? error.message : String(error);
}
