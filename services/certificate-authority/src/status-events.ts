import { sql } from 'kysely';
import pg from 'pg';
import type { Database } from '@c2pa-mesh/storage';
import type { Logger } from 'pino';

/** The PostgreSQL channel on which instances announce certificate status changes. */
export const STATUS_CHANNEL = 'c2pa_mesh_certificate_status';

/** A certificate whose revocation status changed: its issuer and serial number. */
export interface StatusChange {
  issuerId: string;
  serialNumberHex: string;
}

export interface StatusEventsListener {
  /** One certificate's status changed (here or on another instance). */
  changed(change: StatusChange): void;
  /** Changes may have been missed (the channel was down): forget everything cached. */
  reset(): void;
}

/**
 * How status changes reach the caches of every instance. Locally the change is applied at once;
 * with a shared PostgreSQL it is also announced with NOTIFY inside the changing transaction, so
 * other instances hear of it exactly when it commits.
 */
export interface StatusEvents {
  /** True while cached answers may be trusted: locally always, on PostgreSQL while LISTEN is up. */
  readonly caching: boolean;
  /** Announces a change; call inside the transaction that makes it. */
  announce(db: Database, change: StatusChange): Promise<void>;
  close(): Promise<void>;
}

const RECONNECT_MS = [200, 1000, 5000];

export function createStatusEvents(options: { databaseUrl?: string; logger: Logger; listener: StatusEventsListener }): StatusEvents {
  const { databaseUrl, logger, listener } = options;
  if (!databaseUrl) {
    // The embedded database is opened by one process only: nobody else can change a status.
    return { caching: true, announce: async () => undefined, close: async () => undefined };
  }

  let client: pg.Client | undefined;
  let listening = false;
  let closed = false;
  let attempt = 0;
  let timer: NodeJS.Timeout | undefined;

  const lost = (reason: unknown) => {
    if (!listening && client === undefined) return;
    listening = false;
    listener.reset();
    const dropped = client;
    client = undefined;
    dropped?.end().catch(() => undefined);
    if (!closed) {
      logger.warn({ err: reason }, 'certificate status channel lost; OCSP answers are signed fresh until it is back');
      schedule();
    }
  };

  const schedule = () => {
    const delay = RECONNECT_MS[Math.min(attempt, RECONNECT_MS.length - 1)];
    attempt++;
    timer = setTimeout(() => void connect(), delay);
    timer.unref();
  };

  async function connect(): Promise<void> {
    if (closed) return;
    const next = new pg.Client({ connectionString: databaseUrl });
    next.on('notification', (message) => {
      if (message.channel !== STATUS_CHANNEL || !message.payload) return;
      try {
        const change = JSON.parse(message.payload) as StatusChange;
        if (typeof change.issuerId === 'string' && typeof change.serialNumberHex === 'string') listener.changed(change);
      } catch {
        listener.reset();
      }
    });
    next.on('error', (err) => lost(err));
    next.on('end', () => lost(new Error('connection ended')));
    try {
      await next.connect();
      await next.query(`LISTEN ${STATUS_CHANNEL}`);
    } catch (err) {
      next.end().catch(() => undefined);
      if (!closed) {
        logger.warn({ err }, 'cannot listen for certificate status changes yet; retrying');
        schedule();
      }
      return;
    }
    if (closed) {
      await next.end().catch(() => undefined);
      return;
    }
    client = next;
    attempt = 0;
    // Whatever happened while nobody listened is unknown: start from an empty cache.
    listener.reset();
    listening = true;
  }

  const ready = connect();

  return {
    get caching() {
      return listening;
    },
    async announce(db, change) {
      await sql`select pg_notify(${STATUS_CHANNEL}, ${JSON.stringify(change)})`.execute(db);
    },
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      await ready;
      listening = false;
      const open = client;
      client = undefined;
      await open?.end().catch(() => undefined);
    },
  };
}
