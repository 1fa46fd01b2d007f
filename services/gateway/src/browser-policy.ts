/**
 * What a browser may do with the pages and answers the gateway serves: the Content-Security-Policy
 * and, over TLS, Strict-Transport-Security. Pure functions of the config, so the policy is read in
 * one place and tested without a server.
 */

/**
 * The policy for everything the gateway serves. Scripts and styles come only from the app's own
 * bundles (the build has no inline ones). Inline style *attributes* stay allowed: the editor and
 * the board position and size elements through them, and an attribute cannot run code.
 * connect-src 'self' covers same-origin ws:/wss: (CSP Level 3), which /collab uses. The object
 * store's origin (`objectStoreOrigin`) is where browsers upload to and download from presigned URLs.
 */
export function contentSecurityPolicy(imageHosts: readonly string[], objectStoreOrigin?: string): string {
  const store = objectStoreOrigin ? [objectStoreOrigin] : [];
  const directives: Record<string, string[]> = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "style-src-attr": ["'unsafe-inline'"],
    "img-src": ["'self'", "blob:", "data:", ...store, ...imageHosts],
    "font-src": ["'self'", "data:"],
    "connect-src": ["'self'", ...store],
    "worker-src": ["'self'"],
    "manifest-src": ["'self'"],
    "media-src": ["'self'", "blob:", ...store],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
  };
  return Object.entries(directives)
    .map(([name, sources]) => `${name} ${sources.join(" ")}`)
    .join("; ");
}

/** Strict-Transport-Security for a response to a request that came over TLS; null otherwise or when turned off. */
export function strictTransportSecurity(protocol: string, maxAgeSeconds: number): string | null {
  if (protocol !== "https" || maxAgeSeconds <= 0) return null;
  return `max-age=${maxAgeSeconds}; includeSubDomains`;
}
