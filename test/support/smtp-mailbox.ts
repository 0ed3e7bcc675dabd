import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

/** A message as the SMTP server received it. */
export interface ReceivedMail {
  to: string[];
  raw: string;
}

export interface SmtpMailbox {
  /** `smtp://127.0.0.1:<port>`, for MESH_SMTP_URL. */
  url: string;
  mails: ReceivedMail[];
  /** The six-digit code of the first mail to `email` after `after` whose subject mentions `what`. */
  codeFor(email: string, what: 'verification' | 'password reset', after?: number): Promise<string>;
  close(): Promise<void>;
}

/** A real SMTP server on a free port that keeps what it receives, for tests that read mailed codes. */
export async function startSmtpMailbox(): Promise<SmtpMailbox> {
  const mails: ReceivedMail[] = [];
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        mails.push({ to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks).toString('utf8') });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  const port = (smtp.server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    mails,
    async codeFor(email, what, after = 0) {
      const subject = new RegExp(`^Subject: Your c2pa-mesh ${what} code: (\\d{6})`, 'm');
      for (let i = 0; i < 100; i++) {
        const mail = mails.slice(after).find((m) => m.to.includes(email) && subject.test(m.raw));
        if (mail) return subject.exec(mail.raw)![1];
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`no ${what} mail reached ${email}`);
    },
    close: () => new Promise<void>((resolve) => smtp.close(() => resolve())),
  };
}
