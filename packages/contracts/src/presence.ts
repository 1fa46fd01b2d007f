/**
 * What a presence (awareness) state may say about its user, agreed by the sync service, which
 * rewrites every state it relays, and the web app, which renders other people's states. A colour
 * is only ever a hex colour, so a state cannot smuggle CSS (`red;background:url(...)`) or an SVG
 * paint server reference into someone else's page.
 */
export const PRESENCE_COLOR = /^#[0-9a-fA-F]{6}$/;

/** The colour shown for people whose state names none (or an unusable one). */
export const DEFAULT_PRESENCE_COLOR = "#667085";

/** The colour in a presence state if it is a plain hex colour, otherwise the default. */
export function presenceColorOf(value: unknown): string {
  return typeof value === "string" && PRESENCE_COLOR.test(value) ? value : DEFAULT_PRESENCE_COLOR;
}

/** Longest display name a presence state carries; longer names are cut. */
export const MAX_PRESENCE_NAME = 80;
