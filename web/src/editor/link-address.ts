// Which addresses a link in a document may point to. Documents are shared, so a link written by
// one person is clicked by another: only web pages and email addresses, never a script.

const ALLOWED_PROTOCOLS: ReadonlySet<string> = new Set(["http:", "https:", "mailto:"]);

/** Anything before the first ":" that is not a port number (`localhost:3000`) is a scheme. */
const HAS_SCHEME = /^[a-z][a-z0-9+.-]*:(?!\d)/i;

/**
 * The link for what a person typed in the link box, or null when it cannot be one. A bare
 * address becomes an https link (`example.com/a`), an email address a mailto link.
 */
export function linkHref(input: string): string | null {
  const text = input.trim();
  if (text === "" || /\s/.test(text)) return null;
  const candidate = HAS_SCHEME.test(text) ? text : /^[^/@]+@[^/@]+\.[^/@]+$/.test(text) ? `mailto:${text}` : `https://${text}`;
  let url: URL;
  try {
    url = new URL(candidate);
  } catch {
    return null;
  }
  if (!ALLOWED_PROTOCOLS.has(url.protocol)) return null;
  if (url.protocol === "mailto:" ? url.pathname === "" : url.hostname === "") return null;
  return url.href;
}

/**
 * Whether a link's address may be kept and shown: what the link box, pasted HTML, the autolinker
 * and other clients of the document produce all pass through this. It parses the way the browser
 * does when the link is followed (blanks and tabs inside `java\tscript:` do not hide the scheme);
 * an address without a scheme (the autolinker's `example.com`) stays on the web.
 */
export function isAllowedLinkUri(uri: string): boolean {
  try {
    return ALLOWED_PROTOCOLS.has(new URL(uri, "https://relative.invalid/").protocol);
  } catch {
    return false;
  }
}
