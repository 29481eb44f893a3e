// RFC 9474 Appendix A through the vendored blindrsa.js (@cloudflare/blindrsa-ts 0.4.4): a classic
// script, run by node (tests/web/blindrsa_vectors_node.js) and by Chromium
// (tests/web/test_blindrsa_browser.py) alike. It defines the global `blindrsaVectors(input)`,
// whose promise gives, per vector, what the library computed (hex) or the error it raised.
//
// The library draws its randomness with crypto.getRandomValues: a message prefix (the Randomized
// variants), the PSS salt, then r (Blind). Only while Blind runs, getRandomValues hands out the
// vector's values in that order (r as the modulus' length, big-endian), and refuses any other
// call, so a library that drew more or other randomness fails here.
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
  function b64url(bytes) {
    let s = "";
    for (const b of bytes) s += String.fromCharCode(b);
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function unsigned(hex) {
    // A JWK integer: big-endian, no leading zero byte.
    const bytes = fromHex(hex.length % 2 ? "0" + hex : hex);
    let i = 0;
    while (i < bytes.length - 1 && bytes[i] === 0) i++;
    return b64url(bytes.subarray(i));
  }
  function suiteOf(name) {
    const s = root.blindrsa.RSABSSA.SHA384;
    const table = {
      "RSABSSA-SHA384-PSS-Randomized": s.PSS.Randomized,
      "RSABSSA-SHA384-PSSZERO-Randomized": s.PSSZero.Randomized,
      "RSABSSA-SHA384-PSS-Deterministic": s.PSS.Deterministic,
      "RSABSSA-SHA384-PSSZERO-Deterministic": s.PSSZero.Deterministic,
    };
    if (!table[name]) throw new Error("unknown variant " + name);
    return table[name]();
  }

  async function keysOf(v) {
    const alg = { name: "RSA-PSS", hash: "SHA-384" };
    const jwk = { kty: "RSA", n: unsigned(v.n), e: unsigned(v.e), d: unsigned(v.d), p: unsigned(v.p),
                  q: unsigned(v.q), dp: unsigned(v.dp), dq: unsigned(v.dq), qi: unsigned(v.qi),
                  alg: "PS384", ext: true };
    const priv = await crypto.subtle.importKey("jwk", jwk, alg, true, ["sign"]);
    const pub = await crypto.subtle.importKey("jwk", { kty: "RSA", n: jwk.n, e: jwk.e, alg: "PS384", ext: true },
                                              alg, true, ["verify"]);
    return { priv, pub };
  }

  // Runs `fn` with crypto.getRandomValues handing out `values` (Uint8Arrays) in order.
  async function withRandomness(values, fn) {
    const queue = values.filter((x) => x.length > 0);
    const original = crypto.getRandomValues;
    const taken = [];
    const stub = function (array) {
      if (array.byteLength === 0) return array;
      const next = queue.shift();
      if (!next || next.length !== array.byteLength) {
        throw new Error("unexpected getRandomValues of " + array.byteLength + " bytes");
      }
      new Uint8Array(array.buffer, array.byteOffset, array.byteLength).set(next);
      taken.push(array.byteLength);
      return array;
    };
    Object.defineProperty(crypto, "getRandomValues", { value: stub, configurable: true, writable: true });
    try {
      return await fn();
    } finally {
      Object.defineProperty(crypto, "getRandomValues", { value: original, configurable: true, writable: true });
      if (queue.length) throw new Error(queue.length + " random values were not drawn");
    }
  }

  async function runOne(v) {
    const suite = suiteOf(v.name);
    const { priv, pub } = await keysOf(v);
    const msg = fromHex(v.msg);
    const got = { name: v.name, suite: suite.toString() };
    const randomness = [fromHex(v.msg_prefix || ""), fromHex(v.salt || ""), fromHex(v.r)];
    const blinded = await withRandomness(randomness, async () => {
      const prepared = suite.prepare(msg);
      const b = await suite.blind(pub, prepared);
      return { prepared, b };
    });
    got.prepared_msg = toHex(blinded.prepared);
    got.blinded_msg = toHex(blinded.b.blindedMsg);
    got.inv = toHex(blinded.b.inv);
    const blindSig = await suite.blindSign(priv, blinded.b.blindedMsg);
    got.blind_sig = toHex(blindSig);
    const sig = await suite.finalize(pub, blinded.prepared, blindSig, blinded.b.inv);
    got.sig = toHex(sig);
    got.verifies = await suite.verify(pub, sig, blinded.prepared);
    // A signature over another message does not verify; a blind signature of another
    // message does not finalise.
    const other = blinded.prepared.slice();
    other[other.length - 1] ^= 1;
    got.other_verifies = await suite.verify(pub, sig, other);
    try {
      const wrong = fromHex(v.blind_sig);
      wrong[wrong.length - 1] ^= 1;
      await suite.finalize(pub, blinded.prepared, wrong, blinded.b.inv);
      got.tampered_finalised = true;
    } catch (e) {
      got.tampered_finalised = false;
    }
    return got;
  }

  root.blindrsaVectors = async function (input) {
    const out = [];
    for (const v of input.vectors) {
      try {
        out.push(await runOne(v));
      } catch (e) {
        out.push({ name: v.name, error: String(e && e.stack || e) });
      }
    }
    return out;
  };
})(typeof globalThis !== "undefined" ? globalThis : this);
