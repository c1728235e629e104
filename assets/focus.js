// Where GOV.UK's skip link and error summary links move focus, whatever the router does with
// a link to a place on the same page (it handles the hash itself and leaves focus on the link).
// One listener for the whole app, in the capture phase, so it runs before the router's.
document.addEventListener(
  "click",
  (event) => {
    const link =
      event.target instanceof Element
        ? event.target.closest("a.skip-link, .error-summary a")
        : null;
    if (!link) return;
    const id = decodeURIComponent((link.getAttribute("href") || "").split("#")[1] || "");
    const target = id ? document.getElementById(id) : null;
    if (!target) return;
    event.preventDefault();
    event.stopPropagation();
    if (link.classList.contains("skip-link")) {
      target.focus();
      return;
    }
    // The error summary: the field focused, with its question (its label, or the legend of
    // its radios, checkboxes or date parts) in view above it, not the bare input at the top.
    const group = target.closest("fieldset");
    const question = group
      ? group.querySelector("legend")
      : document.querySelector(`label[for="${CSS.escape(target.id)}"]`);
    (question || target).scrollIntoView({ block: "start" });
    target.focus({ preventScroll: true });
  },
  true,
);

// GOV.UK's pattern: while a form's error summary shows, the page's title starts with "Error:"
// (in the page's language, from the summary's data-title-prefix), so a screen reader user
// hears at once, on the title, that the save did not go through.
(() => {
  let added = null; // the prefix this script put on the title, to take off again
  const mark = () => {
    const summary = document.getElementById("error-summary");
    const prefix = summary ? summary.getAttribute("data-title-prefix") : null;
    const shown = added !== null && document.title.startsWith(`${added} `);
    if (shown && prefix === added) return;
    if (shown) document.title = document.title.slice(added.length + 1);
    added = null; // gone, or the page's own title came back without it
    if (prefix) {
      document.title = `${prefix} ${document.title}`;
      added = prefix;
    }
  };
  const start = () => {
    // The title's own text changing (the page's language) counts as well as the summary.
    new MutationObserver(mark).observe(document.documentElement, {
      childList: true,
      subtree: true,
      characterData: true,
      attributes: true,
      attributeFilter: ["data-title-prefix"],
    });
    mark();
  };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
