import { randomUUID } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Transporter } from 'nodemailer';
import type { MailMessage } from '../bus/topics.js';
import type { Logger } from '../log/logger.js';

export interface Mailer {
  send(message: MailMessage): Promise<void>;
}

/**
 * Embedded mode: one JSON file per message in `<dataDir>/outbox/` (format in API.md), written
 * atomically (temp file + rename) so a reader never sees half a message. The console gets the
 * recipient, subject and file, not the link: links carry tokens.
 */
export function outboxDirMailer(dataDir: string, logger: Logger): Mailer {
  const dir = join(dataDir, 'outbox');
  return {
    async send(message) {
      await mkdir(dir, { recursive: true });
      const name = `${new Date().toISOString().replaceAll(':', '-')}-${randomUUID().slice(0, 8)}.json`;
      const temp = join(dir, `.${name}.tmp`);
      await writeFile(temp, `${JSON.stringify(message, null, 2)}\n`, { mode: 0o600 });
      await rename(temp, join(dir, name));
      logger.info('mail written', { to: message.to, subject: message.subject, file: join(dir, name) });
    },
  };
}

export function smtpMailer(transport: Transporter, from: string): Mailer {
  return {
    async send(message) {
      await transport.sendMail({ from, to: message.to, subject: message.subject, text: message.text });
    },
  };
}
