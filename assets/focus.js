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
