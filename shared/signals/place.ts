import type { Location } from './location.js';

/** How mails name a place: "Berlin, DE", "DE", or "an unknown location". */
export function placeName(location: Location | null): string {
  if (!location) return 'an unknown location';
  return location.city ? `${location.city}, ${location.country}` : location.country;
}

/**
 * What a sign-in's audit rows carry beside their own fields, so the security-event log can say
 * where and with what the event happened without another lookup.
 */
export function signInContext(
  location: Location | null,
  userAgent: string | null,
): { country: string | null; city: string | null; userAgent: string | null } {
  return { country: location?.country ?? null, city: location?.city ?? null, userAgent };
}
