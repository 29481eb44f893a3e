// Filing anonymously from the "file a report" page (the attested mode, docs/ANONYMITY.md): the
// withdrawal secret is made in this browser and only its commitment is sent; the secret is
// offered as a file to save (the format of `abusehub report new --anonymous --secret-file`, so
// `abusehub report withdraw --anonymous --secret-file` reads it) and is never sent to the hub.
//
//   const secret = AbusehubAnonymous.newSecret();
//   const receipt = await AbusehubAnonymous.file(url, csrf, collection, signedObjects, secret);
//   link.href = AbusehubAnonymous.secretFileUrl(receipt, collection, secret);
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

  // The secret file's contents as an object URL to save (never sent anywhere).
  function secretFileUrl(receipt, collection, secret) {
    const data = { report_id: receipt.report_id, collection, secret, object_ids: receipt.object_ids || [] };
    const blob = new Blob([JSON.stringify(data, null, 2) + "\n"], { type: "application/json" });
    return URL.createObjectURL(blob);
  }

  window.AbusehubAnonymous = { newSecret, commitment, file, secretFileUrl };
})();
