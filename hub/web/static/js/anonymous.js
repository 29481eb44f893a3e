// Filing anonymously from the "file a report" page (the attested mode, docs/ANONYMITY.md): the
// withdrawal secret is made in this browser and only its commitment is sent; the secret is
// offered as a file to save (the format of `abusehub report new --anonymous --secret-file`, so
// `abusehub report withdraw --anonymous --secret-file` reads it) and is never sent to the hub.
//
//   const secret = AbusehubAnonymous.newSecret();
//   const receipt = await AbusehubAnonymous.file(url, csrf, collection, signedObjects, secret);
//   link.href = AbusehubAnonymous.secretFileUrl(receipt, collection, secret);
//
// An anonymous report's pseudonym request is padded as the command line pads it
// (hub/client/anonymous.py): every kind of `kinds` (the account first, then each personal kind)
// filled with fresh random values of that kind to one bucket (4, 8, 16... elements), grouped by
// kind in that order, each group shuffled, all in one request; the dummies' pseudonyms are
// thrown away.
//
//   const { padded, where } = AbusehubAnonymous.padded(items, kinds, firstBucket, scope);
//   const made = await AbusehubOprf.pseudonymise(padded, keyDoc, evaluate);
//   const mine = where.map((i) => made[i]);
(function () {
  "use strict";
  // hub.anonymity.filing: sha256 of the domain and the secret's 32 bytes.
  const DOMAIN = new TextEncoder().encode("abusehub anonymous report withdrawal v1\u0000");
  const SECRET_BYTES = 32;

  function b64url(bytes) {
    let s = "";
    for (const b of bytes) s += String.fromCharCode(b);
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function b64urlDecode(text) {
    const bin = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  }

  // A fresh secret: 32 random bytes, base64url (43 characters).
  function newSecret() {
    return b64url(crypto.getRandomValues(new Uint8Array(SECRET_BYTES)));
  }

  // What the report carries for `secret`: "sha256:" and 64 hex digits.
  async function commitment(secret) {
    const raw = b64urlDecode(secret);
    if (raw.length !== SECRET_BYTES) throw new Error("a withdrawal secret is 32 bytes in base64url");
    const input = new Uint8Array(DOMAIN.length + raw.length);
    input.set(DOMAIN);
    input.set(raw, DOMAIN.length);
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", input));
    return "sha256:" + Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // POST the signed objects with the secret's commitment; the hub's receipt, or an Error with
  // the hub's reason.
  async function file(url, csrf, collection, objects, secret) {
    const body = { collection, objects, withdrawal_commitment: await commitment(secret) };
    const resp = await fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body),
    });
    let answer = {};
    try { answer = await resp.json(); } catch (e) { /* no JSON */ }
    if (!resp.ok) throw new Error(answer.description || "the hub answered " + resp.status);
    return answer;
  }

  function randomInt(n) {  // 0 <= x < n, uniform
    const limit = Math.floor(0x100000000 / n) * n;
    const word = new Uint32Array(1);
    do crypto.getRandomValues(word); while (word[0] >= limit);
    return word[0] % n;
  }
  function word(n) {
    let s = "";
    for (let i = 0; i < n; i++) s += "abcdefghijklmnopqrstuvwxyz"[randomInt(26)];
    return s;
  }
  function digits(n) {
    let s = "";
    for (let i = 0; i < n; i++) s += String(randomInt(10));
    return s;
  }
  function luhnCompleted(body) {
    let total = 0;
    for (let i = 0; i < body.length; i++) {
      let d = Number(body[body.length - 1 - i]) * (i % 2 === 0 ? 2 : 1);
      total += d > 9 ? d - 9 : d;
    }
    return body + String((10 - (total % 10)) % 10);
  }

  // A fresh random value of `kind`'s shape, normalised as a real one is (the shapes of
  // hub/client/anonymous.py's dummies).
  function dummy(kind, scope) {
    const N = window.AbusehubNormalise;
    if (kind === "provider_account") {
      return N.normalise(kind, N.providerAccountValue(scope, "acct-" + b64url(crypto.getRandomValues(new Uint8Array(6)))));
    }
    if (kind === "email") return N.normalise(kind, word(8) + "@" + word(6) + ".example");
    if (kind === "phone") {
      for (let i = 0; i < 100; i++) {
        try {
          return N.normalise(kind, "+1" + (2 + randomInt(8)) + digits(2) + (200 + randomInt(800)) + digits(4));
        } catch (e) { /* not a valid number: draw again */ }
      }
      return N.normalise(kind, "+1 415 555 2671");
    }
    if (kind === "payment_instrument") return N.normalise(kind, luhnCompleted("4" + digits(14)));
    if (kind === "name") return N.normalise(kind, word(6) + " " + word(8));
    return N.normalise(kind, (1 + randomInt(9999)) + " " + word(7) + " st " + word(9));
  }

  // `items` ([{kind, input}], normalised) among fresh random values: every kind of `kinds` filled
  // to the first bucket (firstBucket, doubled until the kind with the most values fits), grouped
  // by kind in the order of `kinds`, each group shuffled; and where each item is in the list.
  function padded(items, kinds, firstBucket, scope) {
    const unknown = items.find((item) => !kinds.includes(item.kind));
    if (unknown) throw new Error("no padding for the pseudonym kind " + unknown.kind);
    let bucket = firstBucket;
    for (const kind of kinds) {
      const n = items.filter((item) => item.kind === kind).length;
      while (bucket < n) bucket *= 2;
    }
    const out = [];
    const where = new Array(items.length);
    for (const kind of kinds) {
      const slots = [];
      items.forEach((item, i) => { if (item.kind === kind) slots.push(i); });
      while (slots.length < bucket) slots.push(null);
      for (let i = slots.length - 1; i > 0; i--) {  // Fisher-Yates, with the browser's randomness
        const j = randomInt(i + 1);
        [slots[i], slots[j]] = [slots[j], slots[i]];
      }
      for (const slot of slots) {
        if (slot !== null) where[slot] = out.length;
        out.push(slot !== null ? items[slot] : { kind, input: dummy(kind, scope) });
      }
    }
    return { padded: out, where };
  }

  // The secret file's contents as an object URL to save (never sent anywhere).
  function secretFileUrl(receipt, collection, secret) {
    const data = { report_id: receipt.report_id, collection, secret, object_ids: receipt.object_ids || [] };
    const blob = new Blob([JSON.stringify(data, null, 2) + "\n"], { type: "application/json" });
    return URL.createObjectURL(blob);
  }

  window.AbusehubAnonymous = { newSecret, commitment, file, secretFileUrl, padded };
})();
