// Submission tokens in the browser (docs/ANONYMITY.md, "Token mode"): Privacy Pass token type 2
// (RFC 9578 section 6) over the vendored RFC 9474 blind RSA (../vendor/blindrsa.js, the global
// `blindrsa`), as the global `AbusehubTokens`. A classic script: no module loader, nothing inline.
//
//   const key = await AbusehubTokens.readDirectory(directory);      // GET anonymity/token-keys/
//   AbusehubTokens.checkConsistency(key, secondDirectory);           // a peer's copy, another route
//   const begun = await AbusehubTokens.beginIssuance(key);           // {request, state}
//   // POST anonymity/tokens/ {"token_key_id": key.keyIdB64, "requests": [begun.request]} -> responses
//   const token = await AbusehubTokens.finalizeToken(key, begun.state, response);
//   await AbusehubTokens.redeem(api, filing, token);                 // no credentials sent
//
// WebCrypto refuses the RSASSA-PSS SubjectPublicKeyInfo the hub publishes, so the key is read out
// of it here (n and e) and imported as a JWK; its id is SHA-256 of the SPKI as published.
(function (root) {
  "use strict";

  const TOKEN_TYPE = 2;
  const NK = 256;

  function fromB64url(text) {
    const b64 = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
    const bin = atob(b64);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }

  function toB64url(bytes) {
    let s = "";
    for (const b of bytes) s += String.fromCharCode(b);
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function concat(parts) {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  function equal(a, b) {
    if (a.length !== b.length) return false;
    let diff = 0;
    for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
    return diff === 0;
  }

  async function sha256(bytes) {
    return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  }

  // One DER element at `at`: its tag, where its content starts and ends.
  function der(bytes, at) {
    const tag = bytes[at];
    let len = bytes[at + 1];
    let start = at + 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n < 1 || n > 3) throw new Error("the token key is not DER");
      len = 0;
      for (let i = 0; i < n; i++) len = (len << 8) | bytes[start + i];
      start += n;
    }
    if (start + len > bytes.length) throw new Error("the token key is not DER");
    return { tag, start, end: start + len };
  }

  // n and e of an RSA SubjectPublicKeyInfo (whatever its algorithm identifier says).
  function rsaNumbers(spki) {
    const outer = der(spki, 0);
    if (outer.tag !== 0x30) throw new Error("the token key is not a SubjectPublicKeyInfo");
    const algorithm = der(spki, outer.start);
    const bits = der(spki, algorithm.end);
    if (bits.tag !== 0x03 || spki[bits.start] !== 0) throw new Error("the token key has no public key bits");
    const seq = der(spki, bits.start + 1);
    const n = der(spki, seq.start);
    const e = der(spki, n.end);
    if (seq.tag !== 0x30 || n.tag !== 0x02 || e.tag !== 0x02) throw new Error("the token key is not an RSA key");
    const strip = (v) => {
      let i = 0;
      while (i < v.length - 1 && v[i] === 0) i++;
      return v.subarray(i);
    };
    return { n: strip(spki.subarray(n.start, n.end)), e: strip(spki.subarray(e.start, e.end)) };
  }

  async function importKey(spki) {
    const { n, e } = rsaNumbers(spki);
    if (n.length !== NK) throw new Error("a token key is a 2048-bit RSA key");
    return crypto.subtle.importKey("jwk", { kty: "RSA", n: toB64url(n), e: toB64url(e), alg: "PS384", ext: true },
                                   { name: "RSA-PSS", hash: "SHA-384" }, true, ["verify"]);
  }

  function suite() {
    return root.blindrsa.RSABSSA.SHA384.PSS.Deterministic();
  }

  // The issuer name of an encoded TokenChallenge of type 2 (RFC 9577 section 2.1).
  function challengeIssuer(challenge) {
    if (challenge.length < 4 || ((challenge[0] << 8) | challenge[1]) !== TOKEN_TYPE) {
      throw new Error("the token challenge is not of token type 2");
    }
    const len = (challenge[2] << 8) | challenge[3];
    return new TextDecoder().decode(challenge.subarray(4, 4 + len));
  }

  // The current key of a directory (GET anonymity/token-keys/), its id checked against its SPKI.
  async function readDirectory(doc) {
    if (!doc || !Array.isArray(doc.keys) || doc.keys.length !== 1) throw new Error("one current token key expected");
    const item = doc.keys[0];
    if (item.token_type !== TOKEN_TYPE) throw new Error("the key is not of token type 2");
    const spki = fromB64url(item.public_key);
    const keyId = await sha256(spki);
    if (!equal(keyId, fromB64url(item.token_key_id))) throw new Error("the key id is not the id of its public key");
    const challenge = fromB64url(doc.challenge);
    if (challengeIssuer(challenge) !== doc.issuer) throw new Error("the challenge is not the issuer's");
    return { issuer: doc.issuer, epoch: item.epoch, keyId, keyIdB64: item.token_key_id, spki, challenge,
             publicKey: await importKey(spki) };
  }

  // Throws unless `second` (a peer hub's copy, or the directory by another route) shows the same
  // key for the same issuer and epoch.
  function checkConsistency(key, second) {
    if (!second || second.issuer !== key.issuer) throw new Error("the second source shows another issuer's keys");
    const shown = (second.keys || []).find((k) => k.epoch === key.epoch);
    if (!shown) throw new Error("the second source does not show this epoch's key: not using it");
    if (shown.token_key_id !== key.keyIdB64) throw new Error("the second source shows another key: not using it");
  }

  // A TokenRequest (base64url, 259 bytes) and the state its response is finalised with.
  async function beginIssuance(key) {
    const nonce = crypto.getRandomValues(new Uint8Array(32));
    const tokenInput = concat([new Uint8Array([0, TOKEN_TYPE]), nonce, await sha256(key.challenge), key.keyId]);
    const s = suite();
    const prepared = s.prepare(tokenInput);  // the deterministic variant: the input as it is
    const { blindedMsg, inv } = await s.blind(key.publicKey, prepared);
    const request = concat([new Uint8Array([0, TOKEN_TYPE, key.keyId[31]]), blindedMsg]);
    return { request: toB64url(request), state: { tokenInput: prepared, inv } };
  }

  // The token (base64url, 354 bytes) from the issuer's response; throws if it does not verify.
  async function finalizeToken(key, state, response) {
    const blindSig = typeof response === "string" ? fromB64url(response) : response;
    if (blindSig.length !== NK) throw new Error("a token response is 256 bytes");
    const sig = await suite().finalize(key.publicKey, state.tokenInput, blindSig, state.inv);
    return toB64url(concat([state.tokenInput, sig]));
  }

  // File `filing` ({collection, objects, withdrawal_commitment, sealed_record}) with `token`:
  // no cookie, no credential of the party; the hub's receipt.
  async function redeem(api, filing, token) {
    const response = await fetch(api + "anonymous/redeem/", {
      method: "POST", credentials: "omit", cache: "no-store", referrerPolicy: "no-referrer",
      headers: { "Content-Type": "application/json", Accept: "application/json",
                 Authorization: 'PrivateToken token="' + token + '"' },
      body: JSON.stringify(filing),
    });
    const body = await response.json();
    if (response.status !== 202) throw new Error(body.description || "the hub refused the filing");
    return body;
  }

  root.AbusehubTokens = { readDirectory, checkConsistency, beginIssuance, finalizeToken, redeem, fromB64url, toB64url };
})(typeof window !== "undefined" ? window : globalThis);
