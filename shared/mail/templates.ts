import type { MailMessage } from '../bus/topics.js';

/**
 * Mail bodies. Links are built from the configured APP_URL, never from a request's Host header,
 * so a forged Host cannot point a reset link at someone else's server.
 */
export type MailKind =
  | { type: 'verify-email'; to: string; name: string; token: string }
  | { type: 'password-reset'; to: string; token: string }
  | { type: 'account-exists'; to: string; token: string }
  | { type: 'invitation'; to: string; orgName: string; role: string; token: string }
  | { type: 'new-device'; to: string; userAgent: string; ip: string; when: string; place: string }
  | {
      type: 'login-confirmation';
      to: string;
      token: string;
      userAgent: string;
      ip: string;
      when: string;
      place: string;
      previousPlace: string;
    }
  | { type: 'sso-link'; to: string; orgName: string; token: string }
  | { type: 'webhook-disabled'; to: string; orgName: string; orgSlug: string; failingDays: number };

export function renderMail(appUrl: string, mail: MailKind): MailMessage {
  switch (mail.type) {
    case 'verify-email': {
      const url = link(appUrl, '/verify-email', mail.token);
      return {
        to: mail.to,
        subject: 'Confirm your SessionForge email address',
        text: `Hello ${mail.name},\n\nConfirm your email address within 24 hours:\n${url}\n\nIf you did not sign up, ignore this message.`,
        action: { type: 'verify-email', url },
      };
    }
    case 'password-reset': {
      const url = link(appUrl, '/reset-password', mail.token);
      return {
        to: mail.to,
        subject: 'Reset your SessionForge password',
        text: `Someone asked to reset the password of this account. The link works once, for one hour:\n${url}\n\nIf it was not you, ignore this message; your password is unchanged.`,
        action: { type: 'password-reset', url },
      };
    }
    case 'account-exists': {
      // Sent when someone signs up with an address that already has an account. The link is a
      // reset link (a reset action for the mail client), since a forgotten password is the usual reason.
      const url = link(appUrl, '/reset-password', mail.token);
      return {
        to: mail.to,
        subject: 'You already have a SessionForge account',
        text: `Someone, perhaps you, tried to sign up with this email address, which already has a SessionForge account. Nothing about your account changed.\n\nIf you forgot your password, or never set one, choose a new one with this link; it works once, for one hour:\n${url}\n\nIf you are still waiting to confirm your address, the link in your first mail keeps working. If you did not try to sign up, ignore this message.`,
        action: { type: 'password-reset', url },
      };
    }
    case 'invitation': {
      const url = link(appUrl, '/invitations/accept', mail.token);
      return {
        to: mail.to,
        subject: `You are invited to ${mail.orgName} on SessionForge`,
        text: `You have been invited to join ${mail.orgName} as ${mail.role}. The invitation is valid for 7 days:\n${url}`,
        action: { type: 'invitation', url },
      };
    }
    case 'new-device': {
      const url = `${appUrl}/settings/sessions`;
      return {
        to: mail.to,
        subject: 'New sign-in to your SessionForge account',
        text: `Your account was signed in from a new device at ${mail.when}.\nLocation: ${mail.place}\nBrowser: ${mail.userAgent}\nIP address: ${mail.ip}\n\nIf this was not you, end that session and change your password:\n${url}`,
        action: { type: 'new-device', url },
      };
    }
    case 'login-confirmation': {
      const url = link(appUrl, '/confirm-login', mail.token);
      return {
        to: mail.to,
        subject: 'Was this you? Confirm a sign-in to SessionForge',
        text: `Your account was signed in from ${mail.place} at ${mail.when}, too soon after a sign-in from ${mail.previousPlace} for one person to travel between them.\nBrowser: ${mail.userAgent}\nIP address: ${mail.ip}\n\nThat session can do nothing until you answer. Was this you? The link works once, for 15 minutes:\n${url}\n\nIf it was not you, answer "no": that session ends and you can choose a new password.`,
        action: { type: 'login-confirmation', url },
      };
    }
    case 'sso-link': {
      const url = link(appUrl, '/sso/confirm-link', mail.token);
      return {
        to: mail.to,
        subject: `${mail.orgName} asks to sign you in through its single sign-on`,
        text: `${mail.orgName} has verified your email domain, and its identity provider just tried to sign in to your SessionForge account. Nothing has changed yet.\n\nTo let ${mail.orgName}'s single sign-on sign you in from now on, confirm within 24 hours:\n${url}\n\nIf you did not just sign in through ${mail.orgName}, ignore this message and tell your administrator.`,
        action: { type: 'sso-link', url },
      };
    }
    case 'webhook-disabled': {
      // No token: the link only opens the page; the admin signs in as usual.
      const url = new URL(`/orgs/${encodeURIComponent(mail.orgSlug)}/webhooks`, `${appUrl}/`).toString();
      return {
        to: mail.to,
        subject: `A webhook endpoint of ${mail.orgName} was turned off`,
        text: `Deliveries to one of ${mail.orgName}'s webhook endpoints have failed for ${mail.failingDays} days, so SessionForge turned the endpoint off. Events are no longer sent to it.\n\nSee the delivery log, fix the receiver and turn the endpoint back on:\n${url}`,
        action: { type: 'webhook-disabled', url },
      };
    }
  }
}

function link(appUrl: string, path: string, token: string): string {
  const url = new URL(path, `${appUrl}/`);
  url.searchParams.set('token', token);
  return url.toString();
}
