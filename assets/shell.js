// The app on this device when the signal drops (issue 21 part 2).
//
// - Registers the service worker (/sw.js), which keeps the app's static pages and files so the
//   app opens with no signal. Its address carries the build's version (the hash in the name of
//   React Router's manifest file), so a new build installs a new worker, which replaces the old
//   cache. Only a production build has that file: nothing is registered in development.
// - Keeps the last caseload this device was shown online: case ids and references, never a
//   name, copied from the hidden #device-caseload element the log-contact and caseload pages
//   render (webapp.components.device_caseload). It is kept 12 hours at most (a session's longest
//   life) and forgotten whenever the sign-in page is shown, so at sign-out.
// - window.DriveShell.cases(): those cases, for the log-contact page opened offline.
// - Sets <html lang> from the language cookie at once (a page opened offline hears nothing
//   from the server, which sets it online).
(() => {
  const KEY = "drive-assist.caseload";
  const MAX_AGE_MS = 12 * 60 * 60 * 1000;
  const SIGN_IN = "/sign-in";
  const REFERENCE = /^[A-Za-z0-9-]{1,40}$/;

  const forget = () => {
    try {
      localStorage.removeItem(KEY);
    } catch (error) {
      // Storage refused (private mode): nothing was kept either.
    }
  };

  // Only {id, reference} pairs that look like ours: nothing else is ever kept or shown.
  const clean = (cases) =>
    Array.isArray(cases)
      ? cases
          .filter(
            (c) =>
              c && /^[0-9]{1,12}$/.test(String(c.id)) && REFERENCE.test(String(c.reference)),
          )
          .map((c) => ({ id: String(c.id), reference: String(c.reference), mine: true }))
      : [];

  const cases = () => {
    try {
      const kept = JSON.parse(localStorage.getItem(KEY) || "null");
      if (!kept || typeof kept.at !== "number" || Date.now() - kept.at > MAX_AGE_MS) {
        forget();
        return [];
      }
      return clean(kept.cases);
    } catch (error) {
      return [];
    }
  };

  let lastSeen = null;
  const watch = () => {
    if (window.location.pathname.replace(/\/+$/, "") === SIGN_IN) {
      forget();
      lastSeen = null;
      return;
    }
    const source = document.getElementById("device-caseload");
    const shown = source ? source.getAttribute("data-cases") : null;
    if (shown === null || shown === lastSeen) return;
    lastSeen = shown;
    try {
      const kept = clean(JSON.parse(shown)).map(({ id, reference }) => ({ id, reference }));
      localStorage.setItem(KEY, JSON.stringify({ at: Date.now(), cases: kept }));
    } catch (error) {
      // Unreadable or storage refused: keep nothing rather than something half-written.
    }
  };

  const register = () => {
    if (!("serviceWorker" in navigator)) return;
    const build = document.querySelector('link[rel="modulepreload"][href*="/assets/manifest-"]');
    const version = build ? /manifest-([^./]+)\.js/.exec(build.getAttribute("href")) : null;
    if (!version) return;
    navigator.serviceWorker
      .register(`/sw.js?v=${encodeURIComponent(version[1])}`, { scope: "/" })
      .catch(() => {
        // No worker (an old browser, a refused registration): the app works online as before.
      });
  };

  window.DriveShell = { cases, forget };
  // The document's language from the start, as the server sets it once connected (a page
  // opened offline is never told): the da_locale cookie, which holds only the language.
  document.documentElement.lang = document.cookie.split("; ").includes("da_locale=cy")
    ? "cy"
    : "en-GB";
  const start = () => {
    watch();
    new MutationObserver(watch).observe(document.body, {
      childList: true,
      subtree: true,
      attributes: true,
      attributeFilter: ["data-cases"],
    });
    register();
  };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
