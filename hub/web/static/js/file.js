// The "file a report" page: keep the analyst's signing key in IndexedDB (non-extractable),
// sign the objects the hub built for the preview, submit them with the session (CSRF header),
// and follow the status until the hub has judged every object.
(function () {
  "use strict";
  const canonicalize = module.exports;  // the vendored RFC 8785 package (see cjs-shim.js)
  const S = window.AbusehubSigning;
  const panel = document.getElementById("signing");
  if (!panel) return;
  const registered = JSON.parse(panel.dataset.keys || "[]").map((k) => k.kid);
  const identity = panel.dataset.identity;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const state = document.getElementById("key-state");
  const button = document.getElementById("sign-submit");
  const outcome = document.getElementById("outcome");
  const objectsBlock = document.getElementById("objects-json");
  const objects = objectsBlock ? JSON.parse(objectsBlock.textContent) : null;
  let stored = null;
  let submitted = false;

  function db() {
    return new Promise((resolve, reject) => {
      const req = indexedDB.open("abusehub", 1);
      req.onupgradeneeded = () => req.result.createObjectStore("keys");
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }
  async function idb(mode, fn) {
    const d = await db();
    return new Promise((resolve, reject) => {
      const tx = d.transaction("keys", mode);
      const req = fn(tx.objectStore("keys"));
      tx.oncomplete = () => resolve(req.result);
      tx.onerror = () => reject(tx.error);
    });
  }
  // One key per party and browser profile.
  const slot = "party:" + identity;

  function show(message, bad) {
    state.textContent = message;
    state.className = bad ? "error" : "ok";
  }
  function refresh() {
    if (!stored) {
      show("No key in this browser yet: import your private key.", false);
    } else if (!registered.includes(stored.kid)) {
      show("The key in this browser (" + stored.kid + ") is not registered to your party at the hub: ask the operator to register its public key.", true);
    } else {
      show("Signing key " + stored.kid + " (" + stored.alg + ") is ready.", false);
    }
    if (button) button.disabled = !stored || !registered.includes(stored.kid) || submitted;
  }

  document.getElementById("key-import").addEventListener("click", async () => {
    const input = document.getElementById("key-input");
    try {
      const imported = await S.importPrivateKey(canonicalize, input.value);
      input.value = "";  // the private key text leaves the page at once
      await idb("readwrite", (s) => s.put(imported, slot));
      stored = imported;
    } catch (e) {
      show("The key was not imported: " + e.message, true);
      return;
    }
    refresh();
  });
  document.getElementById("key-forget").addEventListener("click", async () => {
    await idb("readwrite", (s) => s.delete(slot));
    stored = null;
    refresh();
  });

  function line(list, text, cls) {
    const li = document.createElement("li");
    li.textContent = text;
    if (cls) li.className = cls;
    list.appendChild(li);
  }
  function render(status) {
    outcome.replaceChildren();
    const p = document.createElement("p");
    const refused = status.failures.length;
    p.textContent = status.status === "complete"
      ? (refused ? "The hub refused " + refused + " object(s); nothing else is lost: fix the form and build again." : "Filed: every object was stored.")
      : "The hub is judging the objects (" + status.pendings.length + " pending)…";
    p.id = "outcome-summary";
    p.dataset.status = status.status;
    p.dataset.refused = String(refused);
    outcome.appendChild(p);
    const ul = document.createElement("ul");
    ul.id = "outcome-list";
    for (const s of status.successes) line(ul, s.id + ": " + s.message, "stored");
    for (const f of status.failures) line(ul, f.id + ": refused: " + f.message, "refused");
    for (const q of status.pendings) line(ul, q.id + ": pending", "pending");
    outcome.appendChild(ul);
    if (status.status === "complete" && !refused) {
      try { sessionStorage.removeItem("abusehub:draft:" + panel.dataset.collection); } catch (e) { /* no draft */ }
      const a = document.createElement("a");
      a.href = panel.dataset.reportUrl;
      a.id = "report-link";
      a.textContent = panel.dataset.openText || "Open the report";
      outcome.appendChild(a);
    }
  }
  async function follow(status) {
    render(status);
    while (status.status !== "complete") {
      await new Promise((r) => setTimeout(r, 1000));
      const resp = await fetch(status.url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (!resp.ok) { outcome.textContent = "Could not read the status (" + resp.status + ")."; return; }
      status = await resp.json();
      render(status);
    }
  }

  // Filed anonymously: the receipt, and the withdrawal secret offered as a file (anonymous.js).
  async function fileAnonymously(signed) {
    const A = window.AbusehubAnonymous;
    const secret = A.newSecret();  // made here, kept only in this page until it is saved
    const receipt = await A.file(button.dataset.anonymousUrl, csrf, panel.dataset.collection, signed, secret);
    showReceipt(receipt, secret);
  }
  function showReceipt(receipt, secret) {
    const A = window.AbusehubAnonymous;
    outcome.replaceChildren();
    const p = document.createElement("p");
    p.id = "outcome-summary";
    p.dataset.status = "filed-anonymously";
    p.dataset.reportId = receipt.report_id;
    p.textContent = "Filed anonymously: the hub will publish report " + receipt.report_id + " under its anonymous identity by " +
      receipt.publish_by + ". Save the withdrawal secret now: it is shown once, and only it withdraws the report.";
    const a = document.createElement("a");
    a.id = "secret-file";
    a.download = "abusehub-withdrawal-" + receipt.report_id.split("--")[1] + ".secret.json";
    a.href = A.secretFileUrl(receipt, panel.dataset.collection, secret);
    a.textContent = "Save the withdrawal secret";
    outcome.append(p, a);
    try { sessionStorage.removeItem("abusehub:draft:" + panel.dataset.collection); } catch (e) { /* no draft */ }
  }

  if (button) {
    button.addEventListener("click", async () => {
      if (submitted || !stored) return;
      submitted = true;  // a double click files once
      button.disabled = true;
      outcome.textContent = "Signing…";
      try {
        if (button.dataset.tokenMode) {
          // The token mode (token-filing.js): the objects go unsigned; the key signs the escrow record.
          outcome.textContent = "Filing anonymously with a token…";
          const { receipt, secret } = await window.AbusehubTokenFiling.file({
            objects, collection: panel.dataset.collection, identity, signingKey: stored });
          showReceipt(receipt, secret);
          return;
        }
        const signedAt = new Date().toISOString();
        const signed = [];
        for (const obj of objects) signed.push(await S.signObject(canonicalize, obj, stored, identity, signedAt));
        if (button.dataset.anonymousUrl) {
          outcome.textContent = "Filing anonymously…";
          await fileAnonymously(signed);
          return;
        }
        outcome.textContent = "Submitting…";
        const resp = await fetch(panel.dataset.submitUrl, {
          method: "POST", credentials: "same-origin",
          headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrf },
          body: JSON.stringify({ objects: signed }),
        });
        const body = await resp.json();
        if (!resp.ok) {
          outcome.textContent = "The hub refused the submission: " + (body.description || resp.status);
          submitted = false;
          refresh();
          return;
        }
        await follow(body);
      } catch (e) {
        outcome.textContent = "Not submitted: " + e.message;
        submitted = false;
        refresh();
      }
    });
  }

  // A key imported while this first read was under way is kept.
  idb("readonly", (s) => s.get(slot)).then((k) => { stored = stored || k || null; refresh(); },
    () => show("This browser cannot keep a key (IndexedDB unavailable).", true));
})();
