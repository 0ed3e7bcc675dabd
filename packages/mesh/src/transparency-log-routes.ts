import { isMeshError } from '@c2pa-mesh/errors';
import type { RelyingPartyResponse, RelyingPartyRoute } from '@c2pa-mesh/server';
import { TILE_WIDTH, parseTilePath, type TransparencyLog } from '@c2pa-mesh/transparency-log';

const text = (status: number, message: string): RelyingPartyResponse => ({ status, contentType: 'text/plain; charset=utf-8', body: `${message}\n` });

/** Largest cosigned note accepted: a checkpoint and a few signature lines. */
const MAX_COSIGNATURE_BYTES = 16 * 1024;

/**
 * The log as C2SP tlog-tiles on the relying-party listener: `/log/checkpoint` (mutable, short
 * cache), `/log/key` (the log's note verifier key), `/log/tile/<L>/<N>[.p/<W>]` and `/log/tile/entries/<N>[.p/<W>]` (immutable), and
 * `POST /log/cosignature` where witnesses hand back their cosignatures (accepted only from the
 * witness keys the log trusts, after verification).
 */
export function transparencyLogRoutes(log: TransparencyLog): RelyingPartyRoute[] {
  return [
    {
      method: 'GET',
      path: '/log/checkpoint',
      async handle() {
        const checkpoint = await log.latestCheckpoint();
        return { status: 200, contentType: 'text/plain; charset=utf-8', body: checkpoint.note, headers: { 'cache-control': 'no-cache, max-age=0' } };
      },
    },
    {
      // Not part of tlog-tiles: the log's note verifier key, for clients that do not pin one yet.
      method: 'GET',
      path: '/log/key',
      handle: () => (log.verifierKey === '' ? text(503, 'the log has not made its key yet; retry shortly') : { status: 200, contentType: 'text/plain; charset=utf-8', body: `${log.verifierKey}\n` }),
    },
    {
      method: 'GET',
      path: '/log/tile/',
      async handle(request) {
        const tile = parseTilePath(request.path.slice('/log/tile/'.length));
        if (tile === undefined) return text(404, 'not a tile path: /log/tile/<L>/<N>[.p/<W>] or /log/tile/entries/<N>[.p/<W>]');
        const bytes = await log.tile(tile);
        if (bytes === undefined) return text(404, 'no such tile in the tree yet');
        return {
          status: 200,
          contentType: 'application/octet-stream',
          body: bytes,
          headers: { 'cache-control': tile.width === TILE_WIDTH ? 'public, max-age=31536000, immutable' : 'public, max-age=60' },
        };
      },
    },
    {
      method: 'POST',
      path: '/log/cosignature',
      maxBodyBytes: MAX_COSIGNATURE_BYTES,
      async handle(request) {
        try {
          const { treeSize, accepted } = await log.addCosignatures(new TextDecoder().decode(request.body));
          return text(200, `cosignature of ${accepted.join(', ')} recorded for tree size ${treeSize}`);
        } catch (error) {
          if (isMeshError(error) && (error.code === 'invalid_argument' || error.code === 'failed_precondition')) return text(error.code === 'invalid_argument' ? 400 : 409, error.message);
          throw error;
        }
      },
    },
  ];
}
