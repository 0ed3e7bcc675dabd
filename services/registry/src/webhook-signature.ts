import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** The header each delivery carries: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. */
export const WEBHOOK_SIGNATURE_HEADER = 'x-c2pa-mesh-signature';
export const WEBHOOK_EVENT_HEADER = 'x-c2pa-mesh-event';
export const WEBHOOK_DELIVERY_HEADER = 'x-c2pa-mesh-delivery';

/** A new signing secret; shown to the user once, then kept only sealed. */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

/**
 * Signs a body as receivers check it. The time is signed with the body so that a captured
 * delivery cannot be replayed later (receivers refuse old timestamps).
 */
export function signWebhookPayload(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`, 'utf8').digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

/** A receiver's check: the signature matches and is at most `toleranceSeconds` old. */
export function verifyWebhookSignature(secret: string, body: string, header: string, options: { toleranceSeconds?: number; nowSeconds?: number } = {}): boolean {
  const parts = Object.fromEntries(header.split(',').map((part) => part.trim().split('=', 2) as [string, string]));
  const t = Number(parts.t);
  if (!Number.isInteger(t) || typeof parts.v1 !== 'string' || !/^[0-9a-f]{64}$/.test(parts.v1)) return false;
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - t) > (options.toleranceSeconds ?? 300)) return false;
  const expected = Buffer.from(signWebhookPayload(secret, body, t).split('v1=')[1], 'hex');
  return timingSafeEqual(expected, Buffer.from(parts.v1, 'hex'));
}
