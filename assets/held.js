// Work survives a dropped connection (issue 21, part 1).
//
// The forms marked data-held-kind (log a contact, an appointment's outcome, a booking) keep a draft on the phone while they
// are filled in. A Save pressed without a connection (the browser offline, or the page's
// connection banner showing) is held here with the form's client_key and sent to the backend's
// POST /api/held when the signal returns: on the "online" event, on every page load and on a
// timer, from whichever page of the app is open (webapp/held.py). The server saves a key once,
// so a retry after a lost answer, a reload or a second press cannot log it twice.
//
// Everything kept on the phone is encrypted (AES-GCM) under a key the server gives the
// signed-in person (POST /api/held/key), kept in local storage so that a tab opened with no
// signal (from the service worker's cache) can hold a Save too, and dropped at sign-out and
// whenever the sign-in page is shown (so after an idle time-out too); everything is filed under
// that person's owner tag: the next person to use the phone can read none of it, and the same
// person gets the same key back from the server when they next sign in. Drafts and held saves older than 24 hours are deleted, with a warning.
//
// The words come from the page (data-* attributes of #held-count, rendered in the reader's
// language by webapp/components/layout.py). For the app shell's offline page:
// window.DriveHeld.hold(kind, fields) -> Promise, window.DriveHeld.count() -> number.
(() => {
  const DAY_MS = 24 * 60 * 60 * 1000;
  const RETRY_MS = 20 * 1000;
  const DRAFT_DELAY_MS = 400;
  const KEY_SLOT = "drive-held-key"; // localStorage: {key, owner}
  const STORE_PREFIX = "drive-held:"; // localStorage: drive-held:<owner>:entries, :draft:<kind>

  let keyInfo = null; // {owner, cryptoKey}
  let sending = null; // the flush under way
  const problemsOf = new Map(); // client_key -> [{field, message}] from the last attempt

  // --- words ------------------------------------------------------------------------------

  function words() {
    const element = document.getElementById("held-count");
    return element ? element.dataset : {};
  }

  // --- keys and storage -------------------------------------------------------------------

  const toBase64 = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)));
  const fromBase64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

  async function importKey(stored) {
    const cryptoKey = await crypto.subtle.importKey(
      "raw", fromBase64(stored.key), "AES-GCM", false, ["encrypt", "decrypt"],
    );
    return { owner: stored.owner, cryptoKey };
  }

  async function fetchKey() {
    const response = await fetch("/api/held/key", {
      method: "POST", credentials: "same-origin", cache: "no-store",
    });
    if (response.status === 401) return null;
    if (!response.ok) throw new Error("no key");
    const answer = await response.json();
    return { key: answer.key, owner: answer.owner };
  }

  function forgetKey() {
    keyInfo = null;
    localStorage.removeItem(KEY_SLOT);
  }

  // The signed-in person's key: asked of the server when there is signal (so a sign-out or
  // another person's sign-in in this tab is noticed), else the one this tab was given.
  async function loadKey({ refresh }) {
    if (refresh && navigator.onLine) {
      try {
        const stored = await fetchKey();
        if (stored === null) {
          forgetKey();
          return null;
        }
        localStorage.setItem(KEY_SLOT, JSON.stringify(stored));
        keyInfo = await importKey(stored);
        return keyInfo;
      } catch (error) {
        // No answer: keep what the tab has.
      }
    }
    if (keyInfo) return keyInfo;
    const stored = JSON.parse(localStorage.getItem(KEY_SLOT) || "null");
    keyInfo = stored ? await importKey(stored) : null;
    return keyInfo;
  }

  async function seal(value) {
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const plain = new TextEncoder().encode(JSON.stringify(value));
    const sealed = await crypto.subtle.encrypt({ name: "AES-GCM", iv }, keyInfo.cryptoKey, plain);
    return { iv: toBase64(iv), data: toBase64(sealed) };
  }

  async function unseal(box) {
    const plain = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: fromBase64(box.iv) }, keyInfo.cryptoKey, fromBase64(box.data),
    );
    return JSON.parse(new TextDecoder().decode(plain));
  }

  const entriesSlot = () => `${STORE_PREFIX}${keyInfo.owner}:entries`;
  // A form about one record (an appointment's outcome) has its own draft: data-held-subject.
  const subjectOf = (form) => form.dataset.heldSubject || "";
  const draftSlot = (form) =>
    `${STORE_PREFIX}${keyInfo.owner}:draft:${form.dataset.heldKind}:${subjectOf(form)}`;

  function readEntries() {
    if (!keyInfo) return [];
    return JSON.parse(localStorage.getItem(entriesSlot()) || "[]");
  }

  function writeEntries(entries) {
    if (entries.length) localStorage.setItem(entriesSlot(), JSON.stringify(entries));
    else localStorage.removeItem(entriesSlot());
    showCount();
  }

  // Drafts and held saves past 24 hours, everyone's (their times are not secret): deleted.
  // True when a held save of the signed-in person's was among them.
  function dropExpired() {
    const oldest = Date.now() - DAY_MS;
    let mineExpired = false;
    for (let index = localStorage.length - 1; index >= 0; index -= 1) {
      const slot = localStorage.key(index);
      if (!slot || !slot.startsWith(STORE_PREFIX)) continue;
      const value = JSON.parse(localStorage.getItem(slot) || "null");
      const mine = keyInfo && slot === entriesSlot();
      if (Array.isArray(value)) {
        const kept = value.filter((entry) => entry.at >= oldest);
        if (kept.length === value.length) continue;
        if (mine) mineExpired = true;
        if (kept.length) localStorage.setItem(slot, JSON.stringify(kept));
        else localStorage.removeItem(slot);
      } else if (!value || value.at < oldest) {
        localStorage.removeItem(slot);
      }
    }
    return mineExpired;
  }

  // --- what the page shows ----------------------------------------------------------------

  function showCount() {
    const element = document.getElementById("held-count");
    if (!element) return;
    const waiting = readEntries().length;
    const text = waiting ? `${element.dataset.waiting} ${waiting}` : "";
    if (element.textContent !== text) element.textContent = text;
  }

  function notice() {
    return document.getElementById("held-notice");
  }

  function say(paragraphs, { focus = false, extra = null } = {}) {
    const element = notice();
    if (!element) return;
    element.replaceChildren(
      ...paragraphs.map((text) => Object.assign(document.createElement("p"), { textContent: text })),
    );
    if (extra) element.append(extra);
    element.hidden = false;
    if (focus) element.focus();
  }

  function showProblems() {
    const entries = readEntries().filter((entry) => problemsOf.has(entry.client_key));
    if (!entries.length) return;
    const list = document.createElement("ul");
    for (const entry of entries) {
      const item = document.createElement("li");
      for (const problem of problemsOf.get(entry.client_key)) {
        item.append(Object.assign(document.createElement("p"), { textContent: problem.message }));
      }
      const form = document.querySelector(`form[data-held-kind="${entry.kind}"]`);
      if (form && subjectOf(form) === (entry.subject || "")) {
        const button = Object.assign(document.createElement("button"), {
          type: "button", className: "button button-secondary", textContent: words().putBack,
        });
        button.addEventListener("click", () => putBack(entry.client_key, form));
        item.append(button);
      }
      list.append(item);
    }
    say([words().invalid], { extra: list });
  }

  // --- the forms --------------------------------------------------------------------------

  const newKey = () => crypto.randomUUID();

  function fieldsOf(form) {
    const fields = {};
    for (const [name, value] of new FormData(form)) {
      if (typeof value === "string") fields[name] = value;
    }
    return fields;
  }

  function fill(form, fields) {
    for (const element of form.elements) {
      if (!element.name || element.type === "submit") continue;
      // The page's own hidden fields (its form key, the appointment) stay as the page made them.
      if (element.type === "hidden" && element.name !== "client_key") continue;
      const value = fields[element.name];
      if (element.type === "radio" || element.type === "checkbox") {
        element.checked = value !== undefined && value === element.value;
      } else if (value !== undefined) {
        element.value = value;
      }
    }
  }

  function clientKeyInput(form) {
    return form.querySelector('input[name="client_key"]');
  }

  function ensureClientKey(form) {
    const input = clientKeyInput(form);
    if (input && !input.value) input.value = newKey();
    return input ? input.value : newKey();
  }

  async function saveDraft(form) {
    // A form gone from the page was saved or held: its draft must not come back.
    if (!form.isConnected || !(await loadKey({ refresh: false }))) return;
    ensureClientKey(form);
    const box = await seal(fieldsOf(form));
    localStorage.setItem(draftSlot(form), JSON.stringify({ at: Date.now(), ...box }));
  }

  async function dropDraft(form) {
    if (await loadKey({ refresh: false })) localStorage.removeItem(draftSlot(form));
  }

  async function restoreDraft(form) {
    if (await loadKey({ refresh: false })) {
      const box = JSON.parse(localStorage.getItem(draftSlot(form)) || "null");
      if (box) {
        try {
          fill(form, await unseal(box));
        } catch (error) {
          localStorage.removeItem(draftSlot(form)); // another key's: unreadable
        }
      }
    }
    ensureClientKey(form);
  }

  async function putBack(clientKey, form) {
    const entry = readEntries().find((held) => held.client_key === clientKey);
    if (!entry) return;
    fill(form, await unseal(entry));
    clientKeyInput(form).value = clientKey; // the same save: still logged once
    writeEntries(readEntries().filter((held) => held.client_key !== clientKey));
    problemsOf.delete(clientKey);
    await saveDraft(form);
    form.querySelector("input, select, textarea")?.focus();
  }

  // --- holding and sending ----------------------------------------------------------------

  async function hold(kind, fields, subject = "") {
    if (!(await loadKey({ refresh: false }))) throw new Error("no key for this person");
    const clientKey = fields.client_key || newKey();
    const box = await seal({ ...fields, client_key: clientKey });
    const entries = readEntries().filter((entry) => entry.client_key !== clientKey);
    entries.push({ client_key: clientKey, kind, subject, at: Date.now(), ...box });
    writeEntries(entries);
    return clientKey;
  }

  async function sendOne(entry) {
    const fields = await unseal(entry);
    const response = await fetch("/api/held", {
      method: "POST",
      credentials: "same-origin",
      cache: "no-store",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ kind: entry.kind, client_key: entry.client_key, fields }),
    });
    const answer = await response.json().catch(() => ({}));
    return { status: response.status, answer };
  }

  // Each held save, oldest first; stops at the first that finds no signal (or no session).
  async function sendHeld() {
    if (!navigator.onLine || !(await loadKey({ refresh: false }))) return;
    let sent = 0;
    for (const entry of readEntries()) {
      let reply;
      try {
        reply = await sendOne(entry);
      } catch (error) {
        break; // no answer (no signal, or it was lost): kept, tried again later
      }
      if (reply.status === 200 || reply.status === 400 || reply.status === 413) {
        // Saved (now or before); or not a save at all (unreadable, or larger than any form
        // makes), which no retry would change.
        writeEntries(readEntries().filter((held) => held.client_key !== entry.client_key));
        problemsOf.delete(entry.client_key);
        sent += reply.status === 200 ? 1 : 0;
      } else if (reply.status === 422) {
        problemsOf.set(entry.client_key, reply.answer.problems || []);
      } else {
        break; // signed out, or the server is in trouble: kept
      }
    }
    if (problemsOf.size) showProblems();
    else if (sent && !readEntries().length) say([words().sent]);
  }

  function flush() {
    if (!sending) sending = sendHeld().finally(() => { sending = null; });
    return sending;
  }

  function connected() {
    return navigator.onLine && !document.querySelector(".connection-banner-text");
  }

  async function holdForm(form) {
    try {
      await hold(form.dataset.heldKind, fieldsOf(form), subjectOf(form));
    } catch (error) {
      say([words().noKey], { focus: true });
      return;
    }
    await dropDraft(form);
    form.reset();
    // The page's own counters (the note's characters left) hear of the emptied fields.
    for (const field of form.querySelectorAll("textarea")) {
      field.dispatchEvent(new Event("input", { bubbles: true }));
    }
    clientKeyInput(form).value = newKey(); // the next save on this form is another contact
    say([words().held], { focus: true });
    flush(); // the signal may be back already
  }

  // A Save with no connection: held here, before the page's own handler sees it.
  window.addEventListener(
    "submit",
    (event) => {
      const form = event.target;
      if (!(form instanceof HTMLFormElement) || !form.dataset.heldKind) return;
      ensureClientKey(form);
      if (connected()) return; // the page saves it, with the same key
      event.preventDefault();
      event.stopImmediatePropagation();
      holdForm(form);
    },
    true,
  );

  const draftTimers = new WeakMap();
  const keepDraft = (event) => {
    const form = event.target instanceof Element ? event.target.closest("form[data-held-kind]") : null;
    if (!form) return;
    clearTimeout(draftTimers.get(form));
    draftTimers.set(form, setTimeout(() => saveDraft(form), DRAFT_DELAY_MS));
  };
  document.addEventListener("input", keepDraft, true);
  document.addEventListener("change", keepDraft, true);

  // Forms as they appear (the page renders them after it loads; "Log another" makes a new
  // one): the draft put back. A form that went away with a confirmation shown was saved.
  const seen = new Set();
  function watchForms() {
    for (const form of document.querySelectorAll("form[data-held-kind]")) {
      if (seen.has(form)) continue;
      seen.add(form);
      restoreDraft(form);
    }
    for (const form of [...seen]) {
      if (form.isConnected) continue;
      seen.delete(form);
      if (document.getElementById("confirmation")) dropDraft(form);
    }
    showCount();
  }

  // --- signing out ------------------------------------------------------------------------

  function askAtSignOut(button) {
    const dialog = Object.assign(document.createElement("dialog"), { className: "held-dialog" });
    dialog.setAttribute("aria-labelledby", "held-dialog-question");
    dialog.append(
      Object.assign(document.createElement("p"), {
        id: "held-dialog-question", textContent: words().signOutQuestion,
      }),
    );
    const choices = [
      ["sendNow", "button", async () => flush()],
      ["keep", "button button-secondary", async () => {}],
      ["discard", "button button-warning", async () => writeEntries([])],
    ];
    const finish = () => {
      dialog.close();
      dialog.remove();
    };
    for (const [word, className, then] of choices) {
      const choice = Object.assign(document.createElement("button"), {
        type: "button", className, textContent: words()[word],
      });
      choice.addEventListener("click", async () => {
        await then();
        finish();
        forgetKey();
        button.dataset.heldAsked = "yes";
        button.click();
      });
      dialog.append(choice);
    }
    const cancel = Object.assign(document.createElement("button"), {
      type: "button", className: "button button-secondary", textContent: words().cancel,
    });
    cancel.addEventListener("click", finish);
    dialog.append(cancel);
    document.body.append(dialog);
    dialog.showModal();
  }

  document.addEventListener(
    "click",
    (event) => {
      const button = event.target instanceof Element ? event.target.closest("[data-sign-out]") : null;
      if (!button) return;
      if (button.dataset.heldAsked || !readEntries().length) {
        delete button.dataset.heldAsked;
        forgetKey(); // the next person in this tab gets no key to what is held
        return;
      }
      event.preventDefault();
      event.stopImmediatePropagation();
      askAtSignOut(button);
    },
    true,
  );

  // --- starting ---------------------------------------------------------------------------

  const SIGN_IN = "/sign-in";

  async function start() {
    // Whoever is at the sign-in page is not (yet) the person whose key this is.
    if (window.location.pathname.replace(/\/+$/, "") === SIGN_IN) forgetKey();
    await loadKey({ refresh: true });
    new MutationObserver(watchForms).observe(document.documentElement, {
      childList: true, subtree: true,
    });
    watchForms();
    if (dropExpired()) say([words().expired]);
    showCount();
    flush();
  }

  window.addEventListener("online", async () => {
    await loadKey({ refresh: true });
    flush();
  });
  setInterval(() => {
    if (readEntries().length) flush();
  }, RETRY_MS);

  window.DriveHeld = {
    hold: async (kind, fields) => {
      const clientKey = await hold(kind, fields);
      flush();
      return clientKey;
    },
    count: () => readEntries().length,
    flush,
  };

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
