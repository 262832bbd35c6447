/** Validity windows, with Linkerd's wording and thresholds. */
import type { Certificate } from "./certificate.js";

/** `linkerd check` warns when a certificate expires within this many days. */
export const EXPIRY_WARNING_DAYS = 60;
const DAY_MS = 86_400_000;

/** RFC 3339 in UTC with whole seconds, as Go prints certificate times: `2025-01-01T00:00:00Z`. */
export function formatTime(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

export type ValidityState = "not-yet-valid" | "expired" | "expiring-soon" | "valid";

export interface Validity {
  state: ValidityState;
  notBefore: Date;
  notAfter: Date;
  /** Whole days from `now` to NotAfter (negative once expired). */
  daysLeft: number;
  /**
   * Linkerd's phrase for the state: `not valid before: <t>`,
   * `not valid anymore. Expired on <t>`, `will expire on <t>`, or
   * `valid until <t>` when nothing is wrong.
   */
  text: string;
}

/**
 * Where `now` falls in the certificate's window. NotBefore and NotAfter are
 * both inclusive; "expiring soon" means NotAfter is less than 60 days away.
 */
export function describeValidity(cert: Pick<Certificate, "notBefore" | "notAfter">, now: Date): Validity {
  const { notBefore, notAfter } = cert;
  const daysLeft = Math.floor((notAfter.getTime() - now.getTime()) / DAY_MS);
  const base = { notBefore, notAfter, daysLeft };
  if (notBefore.getTime() > now.getTime()) {
    return { ...base, state: "not-yet-valid", text: `not valid before: ${formatTime(notBefore)}` };
  }
  if (notAfter.getTime() < now.getTime()) {
    return { ...base, state: "expired", text: `not valid anymore. Expired on ${formatTime(notAfter)}` };
  }
  if (expiresWithin(cert, now, EXPIRY_WARNING_DAYS)) {
    return { ...base, state: "expiring-soon", text: `will expire on ${formatTime(notAfter)}` };
  }
  return { ...base, state: "valid", text: `valid until ${formatTime(notAfter)}` };
}

/** Whether NotAfter comes before `now` + `days` (true for expired certificates too). */
export function expiresWithin(cert: Pick<Certificate, "notAfter">, now: Date, days: number): boolean {
  return now.getTime() + days * DAY_MS > cert.notAfter.getTime();
}
