import { type CloudEvent, cloudEvent } from '@google-cloud/functions-framework';
import { consumer } from '../../shared/bus/consumer.js';
import { outboxDirMailer, smtpMailer } from '../../shared/mail/mailer.js';
import { perPlatform } from '../../shared/runtime/platform.js';
import { notifyHandlers } from './handlers.js';

const deps = perPlatform(async (p) => {
  let mailer = outboxDirMailer(p.config.dataDir, p.logger);
  if (p.config.mail.transport === 'smtp') {
    const { createTransport } = await import('nodemailer');
    mailer = smtpMailer(createTransport((await p.secrets.get('smtp-url')).reveal()), p.config.mail.from);
  }
  return {
    platform: p,
    handlers: notifyHandlers({ mailer, mailKeys: () => p.mailKeys(), logger: p.logger }),
  };
});

cloudEvent('notify', async (event: CloudEvent<unknown>) => {
  const { handlers } = await deps();
  return consumer('notify', handlers, async () => (await deps()).platform)(event);
});
