// The "file a report" form: personal values never leave this browser. Before the form is posted,
// each value typed into a field without a name (class "secret": the account id and the holder's
// personal data) is normalised (normalise.js, the rules of hub/pseudonyms/normalise.py) and
// blinded (oprf.js, RFC 9497 POPRF ristretto255-SHA512); the hub evaluates the blinded elements
// at /web/pseudonyms/evaluate, the proof is checked against the key it publishes, and only the
// pseudonyms go into the form's hidden "pseudonym.<kind>" fields. The other fields are kept in
// this tab's sessionStorage as a draft (never the personal values), so that a session that ends
// in the middle of filing loses nothing else.
(function () {
  "use strict";
  const form = document.getElementById("facts-form");
  if (!form) return;
  const N = window.AbusehubNormalise;
  const O = window.AbusehubOprf;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const note = document.getElementById("pseudonym-state");
  const identity = form.dataset.identity;
  const draftKey = "abusehub:draft:" + form.dataset.collection;
  let keyDoc = null;
  let busy = false;
  // An account id is pseudonymised in the party's scope, or in the anonymous scope when the
  // report is filed anonymously ("file anonymously", where offered); the scope field says which.
  const anonymousBox = document.getElementById("f-file_anonymously");
  const scopeField = document.getElementById("pseudonym-scope");
  function accountScope() {
    return anonymousBox && anonymousBox.checked ? form.dataset.anonymousScope : identity;
  }

  function say(text, bad) {
    note.textContent = text;
    note.className = bad ? "error" : "";
  }
  function fieldProblem(input, message) {
    const id = "err-" + input.id.replace(/^f-/, "");
    let list = document.getElementById(id);
    if (!list) {
      list = document.createElement("ul");
      list.className = "field-error client";
      list.id = id;
      input.parentNode.appendChild(list);
    }
    list.replaceChildren();
    const li = document.createElement("li");
    li.textContent = message;  // names the kind and the rule, never the value
    list.appendChild(li);
    input.setAttribute("aria-invalid", "true");
    const described = (input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    if (!described.includes(id)) input.setAttribute("aria-describedby", [...described, id].join(" "));
  }
  function clearProblems() {
    for (const list of form.querySelectorAll("ul.field-error.client")) {
      const input = list.parentNode.querySelector("input.secret");
      if (input) {
        input.removeAttribute("aria-invalid");
        const rest = (input.getAttribute("aria-describedby") || "").split(" ").filter((d) => d && d !== list.id);
        if (rest.length) input.setAttribute("aria-describedby", rest.join(" ")); else input.removeAttribute("aria-describedby");
      }
      list.remove();
    }
  }

  // -- the draft: every named field but the CSRF token; personal values have no name ---------
  function saveDraft() {
    const fields = [];
    for (const [name, value] of new FormData(form)) {
      if (name !== "csrf_token") fields.push([name, String(value)]);
    }
    try { sessionStorage.setItem(draftKey, JSON.stringify(fields)); } catch (e) { /* storage full or off: no draft */ }
  }
  function restoreDraft() {
    let fields;
    try { fields = JSON.parse(sessionStorage.getItem(draftKey) || "null"); } catch (e) { fields = null; }
    if (!Array.isArray(fields)) return;
    // Check boxes by name and value (a group's values, a yes-or-no box's "yes"); the rest by name.
    const boxes = form.querySelectorAll('input[type="checkbox"][name]');
    const checked = new Set(fields.map(([n, v]) => n + "\n" + v));
    for (const box of boxes) box.checked = checked.has(box.name + "\n" + box.value);
    const boxNames = new Set(Array.from(boxes, (box) => box.name));
    for (const [name, value] of fields) {
      if (boxNames.has(name)) continue;
      const el = form.elements.namedItem(name);
      if (el && "value" in el) el.value = value;
    }
    say("Your draft was restored. Personal values are never kept: type them again, or keep the pseudonyms made before.", false);
  }
  if (form.dataset.fresh === "yes") restoreDraft();

  async function json(resp) {
    try { return await resp.json(); } catch (e) { return {}; }
  }
  function sessionEnded() {
    const a = document.createElement("a");
    a.href = "/web/signin?next=" + encodeURIComponent(location.pathname);
    a.textContent = "Sign in again";
    a.id = "signin-again";
    note.replaceChildren("Your session has ended. The other fields are kept in this tab as a draft; personal values are never kept. ", a);
    note.className = "error";
  }
  class Ended extends Error {}
  async function publishedKey() {
    const resp = await fetch(form.dataset.keyUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (resp.status === 401) throw new Ended("session");
    if (!resp.ok) throw new Error("the hub's pseudonym key could not be read (" + resp.status + ")");
    return json(resp);
  }
  async function evaluate(body) {
    const resp = await fetch(form.dataset.evaluateUrl, {
      method: "POST", credentials: "same-origin", body: JSON.stringify(body),
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrf },
    });
    const answer = await json(resp);
    if (resp.status === 401) throw new Ended("session");
    if (!resp.ok) throw new Error("the hub did not evaluate the blinded values: " + (answer.description || resp.status));
    return answer;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (busy) return;
    clearProblems();
    const value = (id) => (document.getElementById(id) || { value: "" }).value.trim().toUpperCase();
    const region = value("f-phone_region") || value("f-declared_country") || undefined;
    const items = [];
    const inputs = [];
    let bad = false;
    for (const input of form.querySelectorAll("input.secret")) {
      if (!input.value.trim()) continue;
      const kind = input.dataset.kind;
      try {
        const text = kind === "provider_account"
          ? N.normalise(kind, N.providerAccountValue(accountScope(), input.value))
          : N.normalise(kind, input.value, region);
        items.push({ kind, input: text });
        inputs.push(input);
      } catch (e) {
        fieldProblem(input, e.message);
        bad = true;
      }
    }
    saveDraft();
    if (bad) {
      say("Some personal values could not be read: each problem is shown under its field. Nothing was sent.", true);
      return;
    }
    busy = true;
    try {
      if (items.length) {
        say("Pseudonymising in this browser…", false);
        keyDoc = keyDoc || await publishedKey();
        let made;
        if (anonymousBox && anonymousBox.checked) {
          // One request of the command line's padded shape (anonymous.js): it does not tell the
          // hub how many values of each kind the report holds, nor that it came from this page.
          const A = window.AbusehubAnonymous;
          const { padded, where } = A.padded(items, JSON.parse(form.dataset.paddedKinds), Number(form.dataset.firstBucket),
                                             form.dataset.anonymousScope);
          const all = await O.pseudonymise(padded, keyDoc, evaluate);
          made = where.map((i) => all[i]);
        } else {
          made = await O.pseudonymise(items, keyDoc, evaluate);
        }
        made.forEach((pseudonym, i) => {
          document.getElementById("p-" + items[i].kind).value = pseudonym;
          if (items[i].kind === "provider_account") scopeField.value = accountScope();
          inputs[i].value = "";  // the value leaves the page; its pseudonym stays
        });
        saveDraft();
      }
      say("Checking the facts…", false);
      form.submit();  // the named fields only: the values were never named
    } catch (e) {
      if (e instanceof Ended) sessionEnded();
      else say("Not sent: " + e.message, true);
      busy = false;
    }
  });

  if (anonymousBox) {
    anonymousBox.addEventListener("change", () => {
      const kept = document.getElementById("p-provider_account");
      if (!kept || !kept.value || (scopeField.value || identity) === accountScope()) return;
      kept.value = "";  // made in the other scope: it would tie a named and an anonymous report
      const note = document.getElementById("kept-provider_account");
      if (note) note.remove();
      saveDraft();
      say("Type the account id again: its pseudonym is made in another scope for " +
        (anonymousBox.checked ? "an anonymous report." : "a report that names your organisation."), false);
    });
  }

  document.getElementById("forget-pseudonyms").addEventListener("click", () => {
    for (const hidden of form.querySelectorAll('input[type="hidden"][name^="pseudonym."]')) hidden.value = "";
    for (const kept of form.querySelectorAll("p.kept")) kept.remove();
    saveDraft();
    say("The pseudonyms were cleared: type the values again to make new ones.", false);
  });
})();
