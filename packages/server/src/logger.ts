import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON lines on stdout, one object per event; secrets and asset bytes never logged. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: ['*.authorization', '*.key', '*.secret', '*.privateKey', 'req.headers.authorization'], censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination ?? pino.destination({ fd: 1, sync: false }),
  );
}
