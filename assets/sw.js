// The service worker: the app shell on the device, so the app opens with no signal
// (issue 21 part 2; registered by /shell.js, see docs/SECURITY.md "The app on the device").
//
// What it keeps is what every visitor gets before signing in: the pages as the build wrote them
// (Reflex pages are static shells; a case's data only ever comes over the websocket, which no
// service worker sees) and the build's static files. It never keeps a response of the backend's
// own routes (/auth/..., /api/..., /_event, /_upload, /ping, ...), anything but a plain
// same-origin GET answered 200, a redirect, or a page whose address names a record (/case/12:
// the build's one page for every case answers it offline).
//
// - Pages (navigations): the network first; the kept copy only when there is no answer (never
//   an old build's page while the server still answers).
// - /assets/ (names carry a hash of their content): the kept copy first.
// - The few unhashed files (stylesheet, scripts, manifest, icons): the network first.
//
// The cache is named after the build (?v= in this worker's address): a new build's worker
// fills its own cache and, once active, deletes every older one.
const VERSION = new URL(self.location.href).searchParams.get("v") || "dev";
const PREFIX = "drive-assist-shell-";
const CACHE = PREFIX + VERSION;
// Pages to have before the first visit to them: the ones a case manager needs offline.
const PAGES = ["/", "/log/", "/__spa-fallback.html"];
const FILES = [
  "/webapp.css",
  "/focus.js",
  "/passkeys.js",
  "/shell.js",
  "/held.js",
  "/manifest.webmanifest",
  "/icon.svg",
  "/icon-192.png",
  "/icon-512.png",
];
const SPA_FALLBACK = "/__spa-fallback.html";
const BACKEND = /^\/(?:_|auth|api|ping)/;
const RECORD = /\/[0-9]+(?:\/|$)/;

const pageKey = (url) => {
  const path = url.pathname.replace(/\/+$/, "") || "/";
  return new Request(new URL(path, self.location.origin).href);
};

const keepable = (response) =>
  response.type === "basic" && !response.redirected && response.status === 200;

// The static files a page names (/assets/...), to keep with it.
const assetsOf = (html) =>
  Array.from(html.matchAll(/(?:href|src)="(\/assets\/[^"?#]+)"/g), (match) => match[1]);

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      const assets = new Set();
      for (const path of PAGES) {
        const response = await fetch(path, { credentials: "same-origin", cache: "no-cache" });
        if (!keepable(response)) continue;
        assetsOf(await response.clone().text()).forEach((asset) => assets.add(asset));
        await cache.put(pageKey(new URL(path, self.location.origin)), response);
      }
      // Every page's code, from React Router's manifest (named after the build, as this
      // worker's ?v= is): so a page never visited online still opens offline (from the
      // fallback page) and says it needs a connection, rather than a blank screen.
      try {
        const manifest = await fetch(`/assets/manifest-${encodeURIComponent(VERSION)}.js`);
        if (keepable(manifest)) {
          const code = await manifest.text();
          for (const match of code.matchAll(/"(\/assets\/[^"?#]+\.(?:js|css))"/g)) {
            assets.add(match[1]);
          }
        }
      } catch (error) {
        // No manifest (a development server): the pages above and their files are enough.
      }
      await cache.addAll([...FILES, ...assets]);
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      const names = await caches.keys();
      const old = names.filter((name) => name.startsWith(PREFIX) && name !== CACHE);
      await Promise.all(old.map((name) => caches.delete(name)));
      await self.clients.claim();
    })(),
  );
});

const page = async (request, url) => {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    const type = response.headers.get("content-type") || "";
    if (keepable(response) && !RECORD.test(url.pathname) && type.startsWith("text/html")) {
      await cache.put(pageKey(url), response.clone());
    }
    return response;
  } catch (error) {
    const kept =
      (RECORD.test(url.pathname) ? undefined : await cache.match(pageKey(url))) ||
      (await cache.match(pageKey(new URL(SPA_FALLBACK, self.location.origin))));
    if (kept) return kept;
    throw error;
  }
};

const hashed = async (request) => {
  const cache = await caches.open(CACHE);
  // The server answers "Vary: Origin", and a module's import sends an Origin that the copies
  // kept at install did not: a name with its content's hash is the same file either way.
  const kept = await cache.match(request, { ignoreVary: true });
  if (kept) return kept;
  const response = await fetch(request);
  if (keepable(response)) await cache.put(request, response.clone());
  return response;
};

const file = async (request) => {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (keepable(response)) await cache.put(request, response.clone());
    return response;
  } catch (error) {
    const kept = await cache.match(request, { ignoreSearch: true });
    if (kept) return kept;
    throw error;
  }
};

self.addEventListener("fetch", (event) => {
  const { request } = event;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || BACKEND.test(url.pathname)) return;
  if (request.mode === "navigate") {
    event.respondWith(page(request, url));
  } else if (url.pathname.startsWith("/assets/")) {
    event.respondWith(hashed(request));
  } else if (FILES.includes(url.pathname)) {
    event.respondWith(file(request));
  }
  // Anything else goes to the network as if there were no worker.
});
