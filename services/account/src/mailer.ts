import nodemailer from 'nodemailer';
import type { AccountsConfig } from '@c2pa-mesh/config';
import { type Database, insertOutboxMail, newId } from '@c2pa-mesh/storage';
import type { Logger } from 'pino';

export interface Mail {
  to: string;
  subject: string;
  text: string;
}

export interface Mailer {
  /** Sends (or, without an SMTP server, keeps) one message; never throws: failures are logged. */
  send(mail: Mail): Promise<void>;
  close(): void;
}

/**
 * Mail to people: through the SMTP server of MESH_SMTP_URL when set; otherwise into the
 * `mail_outbox` table and the log, so that a mesh started with no mail server can still be used
 * (the codes are read there). Sent mail is not kept: its codes would be secrets at rest.
 */
export function createMailer(options: { db: Database; logger: Logger; config: Pick<AccountsConfig, 'smtpUrl' | 'mailFrom'> }): Mailer {
  const { db, logger, config } = options;
  const transport = config.smtpUrl ? nodemailer.createTransport(config.smtpUrl) : undefined;
  return {
    async send(mail) {
      if (!transport) {
        logger.info({ to: mail.to, subject: mail.subject, text: mail.text }, 'mail kept in the outbox (MESH_SMTP_URL is not set)');
        try {
          await insertOutboxMail(db, { id: newId('mail'), recipient: mail.to, subject: mail.subject, bodyText: mail.text, status: 'OUTBOX' });
        } catch (err) {
          logger.error({ err, to: mail.to }, 'mail could not be written to the outbox');
        }
        return;
      }
      try {
        await transport.sendMail({ from: config.mailFrom, to: mail.to, subject: mail.subject, text: mail.text });
        logger.info({ to: mail.to, subject: mail.subject }, 'mail sent');
      } catch (err) {
        // The body is not logged: it carries a code.
        logger.error({ err, to: mail.to, subject: mail.subject }, 'mail could not be sent');
      }
    },
    close() {
      transport?.close();
    },
  };
}
