// The escrow record a token-mode filing carries (docs/ANONYMITY.md, "The escrow record the client
// makes"), made in the browser exactly as hub/client/tokens.py's seal_submitter_record makes it and
// hub/anonymity/escrow.py opens it: the submitter's party name and identity, the withdrawal
// commitment as the report's id, the filing's hash, the time to the second, the id of its
// registered signing key and its signature over the record, sealed with HPKE (RFC 9180: base mode,
// DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM, through the vendored ../vendor/hpke.js,
// the global `hpke`) to the oversight body's public key. Works in a browser
// (window.AbusehubEscrow) and under node (module.exports), for the tests.
//
//   const oversight = await AbusehubEscrow.readOversightKey(pem);        // {raw, keyId}
//   const sealed = await AbusehubEscrow.sealSubmitterRecord(canonicalize, signingKey, party,
//       identityId, objects, withdrawalCommitment, hubName, oversight);  // the "sealed_record"
(function (root) {
  "use strict";
  const ESCROW_TYPE = "abusehub-escrow";
  const ESCROW_VERSION = 1;
  const PURPOSE = "the submitter of an anonymous report";
  const SUITE_NAME = "HPKE base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM";
  const SIGNED_PURPOSE = "abusehub submitter record, signed by its submitter, v1";
  const PAD_TO = 512;
  // The DER prefix of an X25519 SubjectPublicKeyInfo: SEQUENCE { SEQUENCE { OID 1.3.101.110 }, BIT STRING }.
  const X25519_SPKI = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x03, 0x21, 0x00];
  const utf8 = new TextEncoder();

  function b64url(bytes) {
    let s = "";
    for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function hex(bytes) {
    return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
  }
  async function sha256(bytes) {
    return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  }

  function hpkeSuite() {
    const H = root.hpke;
    if (!H || !H.CipherSuite) throw new Error("the page's cryptography (vendor/hpke.js) is not loaded");
    return new H.CipherSuite({ kem: new H.DhkemX25519HkdfSha256(), kdf: new H.HkdfSha256(), aead: new H.Aes128Gcm() });
  }

  // The oversight body's X25519 public key from its PEM (as `abusehub escrow keygen` writes it):
  // its 32 raw bytes and its id, the SHA-256 of those bytes in hexadecimal.
  async function readOversightKey(pem) {
    const m = /-----BEGIN PUBLIC KEY-----([\s\S]+?)-----END PUBLIC KEY-----/.exec(String(pem || ""));
    if (!m) throw new Error("the oversight key is not a PEM public key (BEGIN PUBLIC KEY)");
    const der = Uint8Array.from(atob(m[1].replace(/\s+/g, "")), (c) => c.charCodeAt(0));
    if (der.length !== X25519_SPKI.length + 32 || X25519_SPKI.some((b, i) => der[i] !== b)) {
      throw new Error("the oversight key is not an X25519 public key");
    }
    const raw = der.slice(X25519_SPKI.length);
    return { raw, keyId: hex(await sha256(raw)) };
  }

  // HPKE's info for the record of `reportId` on the hub named `hub` (hub.anonymity.escrow.escrow_info).
  function escrowInfo(canonicalize, hub, reportId) {
    return utf8.encode(canonicalize({ type: ESCROW_TYPE, version: ESCROW_VERSION, purpose: PURPOSE, hub, report_id: reportId }));
  }

  // What the submitter signs of its record (EscrowRecord.signing_input).
  function signingInput(canonicalize, record) {
    return utf8.encode(canonicalize({ purpose: SIGNED_PURPOSE, submitter: record.submitter, identity_id: record.identity_id,
                                      report_id: record.report_id, report_hash: record.report_hash, time: record.time }));
  }

  // The record's canonical JSON padded with spaces to a multiple of PAD_TO bytes (EscrowRecord.plaintext).
  function plaintext(canonicalize, record) {
    const text = utf8.encode(canonicalize(record));
    const out = new Uint8Array(text.length + ((PAD_TO - (text.length % PAD_TO)) % PAD_TO)).fill(0x20);
    out.set(text);
    return out;
  }

  // `record` sealed to `oversight` ({raw, keyId}) for the hub named `hub` (hub.anonymity.escrow.seal).
  // `options.ekm` (an ephemeral key pair) is for the tests only.
  async function seal(canonicalize, record, oversight, hub, options) {
    if (!hub) throw new Error("the hub's name is needed to seal a record");
    const suite = hpkeSuite();
    const recipientPublicKey = await suite.kem.importKey("raw", oversight.raw.slice().buffer, true);
    const params = { recipientPublicKey, info: escrowInfo(canonicalize, hub, record.report_id) };
    if (options && options.ekm) params.ekm = options.ekm;
    const sender = await suite.createSenderContext(params);
    const ct = new Uint8Array(await sender.seal(plaintext(canonicalize, record)));
    const enc = new Uint8Array(sender.enc);
    const sealed = new Uint8Array(enc.length + ct.length);
    sealed.set(enc);
    sealed.set(ct, enc.length);
    return { type: ESCROW_TYPE, version: ESCROW_VERSION, suite: SUITE_NAME, hub, report_id: record.report_id,
             oversight_key: oversight.keyId, sealed: b64url(sealed) };
  }

  // "sha256:<hex>" of the canonical JSON of the filing as sent (hub.client.tokens.filing_hash).
  async function filingHash(canonicalize, objects, withdrawalCommitment) {
    return "sha256:" + hex(await sha256(utf8.encode(canonicalize({ objects, withdrawal_commitment: withdrawalCommitment }))));
  }

  // A STIX timestamp to the second.
  function stamp(date) {
    return date.toISOString().replace(/\.\d+Z$/, "Z");
  }

  // The token-mode filing's record, signed with `signingKey` ({key, alg, kid} as signing.js
  // imports it: Ed25519, or ES256 whose WebCrypto signature is JWS's r || s) and sealed.
  async function sealSubmitterRecord(canonicalize, signingKey, party, identityId, objects, withdrawalCommitment, hub,
                                     oversight, now) {
    const record = { submitter: party, identity_id: identityId, report_id: withdrawalCommitment,
                     report_hash: await filingHash(canonicalize, objects, withdrawalCommitment), time: stamp(now || new Date()) };
    const params = signingKey.alg === "Ed25519" ? { name: "Ed25519" } : { name: "ECDSA", hash: "SHA-256" };
    const signature = await crypto.subtle.sign(params, signingKey.key, signingInput(canonicalize, record));
    return seal(canonicalize, { ...record, key_id: signingKey.kid, signature: b64url(signature) }, oversight, hub);
  }

  const api = { ESCROW_TYPE, SUITE_NAME, PAD_TO, readOversightKey, escrowInfo, signingInput, plaintext, seal, filingHash,
                sealSubmitterRecord, hpkeSuite };
  if (typeof module === "object" && module && root.process) module.exports = api;
  root.AbusehubEscrow = api;
})(typeof window !== "undefined" ? window : globalThis);
