// The service worker: keeps the app itself (index.html, scripts, styles) on this device so it
// starts without a network, after which each document opens from its own IndexedDB copy.
//
// Built as its own entry (sw.js at the site root, see vite.config.ts), which replaces the
// precache placeholder below with the build's file list; the cache is named after that list,
// so a new deploy installs beside the old one and removes it once active.
// Navigations go to the network first (a deploy reaches everyone at once) and fall back to the
// cached index.html; hashed assets come from the cache first. The API, the collab WebSocket
// and anything from other origins are never touched.

// The worker's globals, typed here: this project's type check uses the DOM library.
interface ExtendableEventLike extends Event {
  waitUntil(promise: Promise<unknown>): void;
}
interface FetchEventLike extends ExtendableEventLike {
  readonly request: Request;
  respondWith(response: Promise<Response>): void;
}
interface WorkerScope {
  skipWaiting(): Promise<void>;
  addEventListener(type: "install" | "activate", listener: (event: ExtendableEventLike) => void): void;
  addEventListener(type: "fetch", listener: (event: FetchEventLike) => void): void;
  readonly location: Location;
}

const scope = self as unknown as WorkerScope;

/** Replaced at build time with the JSON list of files to keep, then the cache version. */
const PRECACHE: readonly string[] = JSON.parse("__PALIMPSEST_PRECACHE__") as string[];
const VERSION = "__PALIMPSEST_VERSION__";
const CACHE_PREFIX = "palimpsest-app-";
const CACHE = `${CACHE_PREFIX}${VERSION}`;
const INDEX = "/index.html";
const NEVER_CACHED = ["/api/", "/collab", "/.well-known/", "/metrics", "/readyz", "/healthz"];

scope.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(PRECACHE))
      // Old tabs keep working: assets of earlier deploys stay in their own cache until activation.
      .then(() => scope.skipWaiting()),
  );
});

scope.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys().then((keys) => Promise.all(keys.filter((key) => key.startsWith(CACHE_PREFIX) && key !== CACHE).map((key) => caches.delete(key)))),
  );
});

async function navigate(request: Request): Promise<Response> {
  try {
    const response = await fetch(request);
    if (response.ok && response.headers.get("content-type")?.includes("text/html")) {
      // Every app path serves the same index.html: keep the newest for offline starts.
      const copy = response.clone();
      void caches.open(CACHE).then((cache) => cache.put(INDEX, copy));
    }
    return response;
  } catch (err) {
    const cached = await caches.match(INDEX);
    if (cached) return cached;
    throw err;
  }
}

async function fromCacheFirst(request: Request): Promise<Response> {
  const cached = await caches.match(request);
  return cached ?? fetch(request);
}

scope.addEventListener("fetch", (event) => {
  const { request } = event;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== scope.location.origin || NEVER_CACHED.some((prefix) => url.pathname.startsWith(prefix))) return;
  if (request.mode === "navigate") event.respondWith(navigate(request));
  else if (PRECACHE.includes(url.pathname)) event.respondWith(fromCacheFirst(request));
});
