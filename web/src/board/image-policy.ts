// Which remote hosts this server's image policy refused. The deployment lists the hosts pictures
// may come from (IMAGE_HOSTS, which the gateway puts in its Content-Security-Policy); the browser
// blocks every other one and reports each refusal as a securitypolicyviolation event. A card whose
// picture failed looks here, so it can say why instead of "could not be loaded".

import { useSyncExternalStore } from "react";

const refusedOrigins = new Set<string>();
const listeners = new Set<() => void>();

function originOf(url: string): string | null {
  try {
    return new URL(url, window.location.href).origin;
  } catch {
    return null;
  }
}

if (typeof document !== "undefined") {
  document.addEventListener("securitypolicyviolation", (event) => {
    if (!event.effectiveDirective.startsWith("img-src")) return;
    // Reports of cross-origin requests may carry only the origin, so compare origins.
    const origin = originOf(event.blockedURI);
    if (origin === null || refusedOrigins.has(origin)) return;
    refusedOrigins.add(origin);
    for (const listener of listeners) listener();
  });
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Whether the image policy refused pictures from the host of `url`. */
export function useRefusedByImagePolicy(url: string | null | undefined): boolean {
  return useSyncExternalStore(subscribe, () => {
    const origin = url ? originOf(url) : null;
    return origin !== null && refusedOrigins.has(origin);
  });
}
