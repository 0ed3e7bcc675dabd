import type { Server } from 'node:net';

/** Listens and resolves with the bound port and the URL host part (IPv6 in brackets). */
export async function listen(server: Server, host: string, port: number): Promise<{ port: number; hostForUrl: string }> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : port,
    hostForUrl: host.includes(':') ? `[${host}]` : host,
  };
}
