// RFC 9180 Appendix A.1.1 (base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM: the
// escrow record's suite) through the vendored hpke.js (@hpke/core), and a record sealed by
// hub/web/static/js/escrow.js: a classic script, run by node (tests/web/hpke_vectors_node.js) and
// by Chromium (tests/web/test_hpke_js_browser.py) alike. It defines the global
// `hpkeVectors(input)`, whose promise gives what the library computed (hex), and the sealed record
// with the public key that signed it, for the Python side to open and check.
"use strict";

(function (root) {
  function fromHex(hex) {
    const out = new Uint8Array(hex.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(2 * i, 2), 16);
    return out;
  }
  function toHex(bytes) {
    return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
  }
  function buf(hex) {
    return fromHex(hex).buffer;
  }

  async function vectors(v) {
    const suite = root.AbusehubEscrow.hpkeSuite();
    const out = { suite: [suite.kem.id, suite.kdf.id, suite.aead.id] };
    // DeriveKeyPair from the vector's ikm gives its key pairs.
    const derivedE = await suite.kem.deriveKeyPair(buf(v.ikmE));
    const derivedR = await suite.kem.deriveKeyPair(buf(v.ikmR));
    out.pkEm = toHex(await suite.kem.serializePublicKey(derivedE.publicKey));
    out.pkRm = toHex(await suite.kem.serializePublicKey(derivedR.publicKey));
    out.skRm = toHex(await suite.kem.serializePrivateKey(derivedR.privateKey));
    // The sender with the vector's ephemeral key: its enc and the ciphertexts at sequence 0, 1, 2 and 4.
    const ekm = { privateKey: await suite.kem.importKey("raw", buf(v.skEm), false),
                  publicKey: await suite.kem.importKey("raw", buf(v.pkEm), true) };
    const recipientPublicKey = await suite.kem.importKey("raw", buf(v.pkRm), true);
    const sender = await suite.createSenderContext({ recipientPublicKey, info: buf(v.info), ekm });
    out.enc = toHex(sender.enc);
    out.ct = {};
    for (let seq = 0; seq <= 4; seq++) {
      const ct = await sender.seal(buf(v.pt), new TextEncoder().encode("Count-" + seq).buffer);
      if (seq !== 3) out.ct[seq] = toHex(ct);
    }
    // The recipient with the vector's private key opens them in order; another info does not open.
    const recipientKey = await suite.kem.importKey("raw", buf(v.skRm), false);
    const recipient = await suite.createRecipientContext({ recipientKey, enc: buf(v.enc), info: buf(v.info) });
    out.opened = [];
    for (const seq of [0, 1, 2]) {
      out.opened.push(toHex(await recipient.open(buf(v.ct[seq]), new TextEncoder().encode("Count-" + seq).buffer)));
    }
    const other = await suite.createRecipientContext({ recipientKey, enc: buf(v.enc), info: new TextEncoder().encode("another info").buffer });
    try {
      await other.open(buf(v.ct[0]), new TextEncoder().encode("Count-0").buffer);
      out.other_info_opened = true;
    } catch (e) {
      out.other_info_opened = false;
    }
    return out;
  }

  // A submitter record sealed by escrow.js with a fresh Ed25519 key, as the filing page seals one.
  async function record(r) {
    const E = root.AbusehubEscrow;
    const S = root.AbusehubSigning;
    const canonicalize = root.canonicalizeForTests || root.module.exports;  // node; the page (cjs-shim.js)
    const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"]);
    const jwk = await crypto.subtle.exportKey("jwk", pair.publicKey);
    const publicJwk = { kty: "OKP", crv: "Ed25519", x: jwk.x };
    const signingKey = { key: pair.privateKey, alg: "Ed25519", kid: await S.thumbprint(canonicalize, publicJwk) };
    const oversight = await E.readOversightKey(r.oversight_pem);
    const sealed = await E.sealSubmitterRecord(canonicalize, signingKey, r.party, r.identity, r.objects, r.commitment,
                                               r.hub, oversight);
    return { sealed, public_jwk: publicJwk, kid: signingKey.kid, oversight_key_id: oversight.keyId };
  }

  root.hpkeVectors = async function (input) {
    return { vectors: await vectors(input.vector), record: input.record ? await record(input.record) : null };
  };
})(typeof window !== "undefined" ? window : globalThis);
