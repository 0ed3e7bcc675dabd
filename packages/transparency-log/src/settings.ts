import { invalidArgument } from '@c2pa-mesh/errors';
import { parseVerifierKey, type VerifierKey } from './note.js';

export interface TransparencyLogSettings {
  /** MESH_LOG_ORIGIN: the checkpoint origin and log key name, fixed when the log is first made. */
  origin: string;
  /** MESH_LOG_WITNESSES: comma-separated cosignature/v1 verifier keys of trusted witnesses. */
  witnesses: VerifierKey[];
}

export const DEFAULT_LOG_ORIGIN = 'c2pa-mesh.local/log';

export function transparencyLogSettingsFromEnv(env: NodeJS.ProcessEnv): TransparencyLogSettings {
  const origin = env.MESH_LOG_ORIGIN?.trim() || DEFAULT_LOG_ORIGIN;
  if (!/^[\x21-\x7e]+$/.test(origin) || origin.includes('+')) {
    throw invalidArgument('MESH_LOG_ORIGIN is a schema-less URL of printable ASCII without spaces or "+", e.g. "example.com/log"');
  }
  const witnesses = (env.MESH_LOG_WITNESSES ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((text) => {
      try {
        const key = parseVerifierKey(text);
        if (key.type !== 0x04) throw new SyntaxError('a witness key is a cosignature/v1 Ed25519 key (type 0x04)');
        return key;
      } catch (error) {
        throw invalidArgument(`MESH_LOG_WITNESSES: ${(error as Error).message}`);
      }
    });
  return { origin, witnesses };
}
