import { createHmac } from 'node:crypto';
import nodemailer, { type Transporter } from 'nodemailer';
import { renderInvitationEmail, renderReminderEmail, renderShortMessage } from './render.js';
import type { SurveySettings } from './settings.js';
import type { SurveyDefinition } from './types.js';

/** An invitation ready to leave: who, in which language, and its links. */
export interface Outgoing {
  channel: string;
  reminder: boolean;
  definition: SurveyDefinition;
  language: string;
  surveyUrl: string;
  /** One-click score link for the first question (e-mail). */
  scoreUrl: (score: number) => string;
  optOutUrl: string;
  openPixelUrl: string;
  invitation: { id: string; surveyId: number; surveyVersion: number };
  customer: { externalId: string; name: string | null; email: string | null; phone: string | null };
  interactionId: string | null;
}

/** Where e-mail goes: `SMTP_URL` (e.g. smtp://user:pass@mail.example.com:587) and `SMTP_FROM`. */
export interface MailConfig {
  url: string;
  from: string;
}

export const mailConfigFromEnv = (env: NodeJS.ProcessEnv = process.env): MailConfig | null => {
  const url = env.SMTP_URL?.trim();
  if (!url) return null;
  return { url, from: env.SMTP_FROM?.trim() || 'Touchpoint <surveys@localhost>' };
};

/** A send that failed; `permanent` ones are not retried. */
export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly permanent = false,
  ) {
    super(message);
  }
}

const TIMEOUT_MS = 10_000;

const post = async (url: string, headers: Record<string, string>, body: string): Promise<void> => {
  let response: Response;
  try {
    response = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (error) {
    throw new DeliveryError(`POST ${new URL(url).origin} failed: ${(error as Error).message}`);
  }
  await response.arrayBuffer().catch(() => undefined);
  if (!response.ok) {
    throw new DeliveryError(
      `POST ${new URL(url).origin} answered ${response.status}`,
      response.status >= 400 && response.status < 500 && response.status !== 429,
    );
  }
};

const escapeXml = (text: string) =>
  text.replace(
    /[<>&"']/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] ?? c,
  );

/**
 * Sends invitations on every channel: e-mail through SMTP, SMS and voice through a provider taking
 * Twilio-style form posts, and a generic JSON webhook. One instance per process; it keeps the SMTP
 * connection.
 */
export class Channels {
  private transport: Transporter | undefined;

  constructor(private readonly mail: MailConfig | null) {}

  async send(message: Outgoing, settings: SurveySettings): Promise<void> {
    switch (message.channel) {
      case 'email':
        return this.sendEmail(message);
      case 'sms':
      case 'voice':
        return this.sendToProvider(message, settings);
      case 'webhook':
        return this.sendWebhook(message, settings);
      default:
        throw new DeliveryError(`invitations are not sent on the ${message.channel} channel`, true);
    }
  }

  private async sendEmail(message: Outgoing): Promise<void> {
    if (!this.mail) throw new DeliveryError('e-mail is not configured: set SMTP_URL (and SMTP_FROM)', true);
    const email = message.customer.email;
    if (!email) throw new DeliveryError('the customer has no e-mail address', true);
    const first = message.definition.questions[0];
    const input = {
      definition: message.definition,
      language: message.language,
      surveyUrl: message.surveyUrl,
      optOutUrl: message.optOutUrl,
      openPixelUrl: message.openPixelUrl,
      ...(first?.type === 'rating' ? { firstQuestion: { id: first.id, scoreUrl: message.scoreUrl } } : {}),
    };
    const content = message.reminder ? renderReminderEmail(input) : renderInvitationEmail(input);
    await this.sendMail({
      to: message.customer.name ? { name: message.customer.name, address: email } : email,
      subject: content.subject,
      text: content.text,
      html: content.html,
      headers: { 'List-Unsubscribe': `<${message.optOutUrl}>` },
    });
  }

  private async sendToProvider(message: Outgoing, settings: SurveySettings): Promise<void> {
    const provider = message.channel === 'sms' ? settings.sms : settings.voice;
    if (!provider) {
      throw new DeliveryError(
        `no ${message.channel} provider is configured (PUT /api/v1/survey-settings)`,
        true,
      );
    }
    const phone = message.customer.phone;
    if (!phone) throw new DeliveryError('the customer has no phone number', true);
    const text = renderShortMessage({
      definition: message.definition,
      language: message.language,
      surveyUrl: message.surveyUrl,
    });
    const form = new URLSearchParams({ To: phone, From: provider.from });
    if (message.channel === 'sms') form.set('Body', text);
    else
      form.set(
        'Twiml',
        `<Response><Say language="${escapeXml(message.language)}">${escapeXml(text)}</Say></Response>`,
      );
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (provider.authorization) headers.authorization = provider.authorization;
    await post(provider.url, headers, form.toString());
  }

  private async sendWebhook(message: Outgoing, settings: SurveySettings): Promise<void> {
    const webhook = settings.webhook;
    if (!webhook) throw new DeliveryError('no webhook is configured (PUT /api/v1/survey-settings)', true);
    const body = JSON.stringify({
      type: message.reminder ? 'survey.reminder' : 'survey.invitation',
      invitation: {
        id: message.invitation.id,
        surveyId: message.invitation.surveyId,
        surveyVersion: message.invitation.surveyVersion,
        surveyName: message.definition.name,
        language: message.language,
        url: message.surveyUrl,
        optOutUrl: message.optOutUrl,
        text: renderShortMessage({
          definition: message.definition,
          language: message.language,
          surveyUrl: message.surveyUrl,
        }),
      },
      customer: message.customer,
      interactionId: message.interactionId,
    });
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (webhook.secret) {
      headers['x-touchpoint-signature'] =
        `sha256=${createHmac('sha256', webhook.secret).update(body).digest('hex')}`;
    }
    await post(webhook.url, headers, body);
  }

  /** Sends one e-mail through SMTP (invitations, closed-loop notifications and follow-ups). */
  async sendMail(mail: {
    to: string | { name: string; address: string };
    subject: string;
    text: string;
    html?: string;
    headers?: Record<string, string>;
  }): Promise<void> {
    if (!this.mail) throw new DeliveryError('e-mail is not configured: set SMTP_URL (and SMTP_FROM)', true);
    this.transport ??= nodemailer.createTransport(this.mail.url);
    try {
      await this.transport.sendMail({ from: this.mail.from, ...mail });
    } catch (error) {
      const code = (error as { responseCode?: number }).responseCode;
      throw new DeliveryError(`SMTP: ${(error as Error).message}`, code !== undefined && code >= 500);
    }
  }

  close(): void {
    this.transport?.close();
  }
}
