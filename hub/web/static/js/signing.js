// Signing STIX objects in the browser: the scheme of docs/SIGNING.md, version 2.
// The signed bytes: the object whose signatures list holds only the new entry without "value",
// every string that is entirely a STIX timestamp in its shortest exact form (the timestamp
// rule), then RFC 8785 (the vendored canonicalize package). Ed25519, or ES256 (P-256, r || s).
// Works in a browser (window.AbusehubSigning) and under node (module.exports), for the tests.
(function (root) {
  "use strict";
  const EXTENSION = "extension-definition--9b39b729-aa66-40ae-aed8-53bbf528cf7a";
  // STIX 2.1 section 3.2 timestamps; without the m flag, $ matches only at the very end.
  const TIMESTAMP = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z$/;
  const NOT_SIGNED = new Set(["marking-definition", "extension-definition", "language-content"]);

  function shortest(value) {
    if (Array.isArray(value)) return value.map(shortest);
    if (value !== null && typeof value === "object") {
      const out = {};
      for (const [k, v] of Object.entries(value)) out[k] = shortest(v);
      return out;
    }
    if (typeof value === "string") {
      const m = TIMESTAMP.exec(value);
      if (m && m[1]) return value.slice(0, -1).replace(/0+$/, "").replace(/\.$/, "") + "Z";
    }
    return value;
  }

  function b64url(bytes) {
    let s = "";
    for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function b64decode(text) {
    const bin = atob(text.replace(/\s+/g, ""));
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }

  // The object prepared for one signature entry (without "value"), as hub.signing does.
  function unsignedFor(obj, entry) {
    const copy = JSON.parse(JSON.stringify(obj));
    copy.extensions = copy.extensions || {};
    const body = copy.extensions[EXTENSION] || { extension_type: "property-extension", signatures: [] };
    const meta = {};
    for (const [k, v] of Object.entries(entry)) if (k !== "value") meta[k] = v;
    copy.extensions[EXTENSION] = { ...body, signatures: [meta] };
    return copy;
  }

  function signingInput(canonicalize, obj, entry) {
    const version = entry.version;
    const prepared = unsignedFor(obj, entry);
    const text = canonicalize(version === "2" ? shortest(prepared) : prepared);
    return new TextEncoder().encode(text);
  }

  // RFC 7638 thumbprint of a public JWK: SHA-256 of its required members in RFC 8785 form.
  async function thumbprint(canonicalize, jwk) {
    const req = jwk.kty === "OKP" ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x }
      : { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y };
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(canonicalize(req)));
    return b64url(digest);
  }

  function algorithmOf(jwk) {
    if (jwk.kty === "OKP" && jwk.crv === "Ed25519") return "Ed25519";
    if (jwk.kty === "EC" && jwk.crv === "P-256") return "ES256";
    throw new Error("only Ed25519 (OKP) and P-256 (EC) keys can sign reports");
  }

  function webAlgorithm(alg) {
    return alg === "Ed25519" ? { name: "Ed25519" } : { name: "ECDSA", namedCurve: "P-256" };
  }

  // A private key from PKCS#8 PEM or a JWK text: a non-extractable CryptoKey, its public JWK,
  // its algorithm and key id. The private members are dropped as soon as they are parsed.
  async function importPrivateKey(canonicalize, text) {
    const trimmed = text.trim();
    let jwk;
    if (trimmed.startsWith("{")) {
      jwk = JSON.parse(trimmed);
      if (!jwk.d) throw new Error("this JWK has no private part (d): give the private key");
    } else {
      const m = /-----BEGIN PRIVATE KEY-----([\s\S]+?)-----END PRIVATE KEY-----/.exec(trimmed);
      if (!m) throw new Error("expected a PKCS#8 PEM (BEGIN PRIVATE KEY) or a JWK");
      const der = b64decode(m[1]);
      let tmp = null;
      for (const alg of ["Ed25519", "ES256"]) {
        try {
          tmp = await crypto.subtle.importKey("pkcs8", der, webAlgorithm(alg), true, ["sign"]);
          break;
        } catch (e) { /* try the other algorithm */ }
      }
      if (!tmp) throw new Error("the PEM is not an Ed25519 or P-256 private key this browser can use");
      jwk = await crypto.subtle.exportKey("jwk", tmp);
    }
    const alg = algorithmOf(jwk);
    const pub = jwk.kty === "OKP" ? { kty: "OKP", crv: jwk.crv, x: jwk.x }
      : { kty: "EC", crv: jwk.crv, x: jwk.x, y: jwk.y };
    const priv = { ...pub, d: jwk.d };
    const key = await crypto.subtle.importKey("jwk", priv, webAlgorithm(alg), false, ["sign"]);
    return { key, publicJwk: pub, alg, kid: await thumbprint(canonicalize, pub) };
  }

  async function signObject(canonicalize, obj, stored, signer, signedAt) {
    if (NOT_SIGNED.has(obj.type)) return obj;
    const entry = { type: "jss", version: "2", algorithm: stored.alg, signer,
      key_id: stored.kid, signed: signedAt };
    const data = signingInput(canonicalize, obj, entry);
    const params = stored.alg === "Ed25519" ? { name: "Ed25519" } : { name: "ECDSA", hash: "SHA-256" };
    entry.value = b64url(await crypto.subtle.sign(params, stored.key, data));
    const out = JSON.parse(JSON.stringify(obj));
    out.extensions = out.extensions || {};
    const body = out.extensions[EXTENSION] || { extension_type: "property-extension", signatures: [] };
    out.extensions[EXTENSION] = { ...body, signatures: [...(body.signatures || []), entry] };
    return out;
  }

  const api = { EXTENSION, shortest, signingInput, thumbprint, importPrivateKey, signObject, b64url };
  if (typeof module === "object" && module && root.process) module.exports = api;
  root.AbusehubSigning = api;
})(typeof window !== "undefined" ? window : globalThis);
