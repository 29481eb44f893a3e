// Oblivious pseudonyms in the browser: the provider's side of RFC 9497 POPRF with the suite
// ristretto255-SHA512, as the hub's Python client makes them (hub/client/taxii.py,
// oblivious_pseudonyms), with the group arithmetic of the vendored noble-curves.js (the global
// nobleCurves, ../vendor/noble-curves.js, loaded before this file is used). The hub never sees a
// value: each one is blinded here, the hub evaluates the blinded elements of each kind under that
// kind's public info with one batched DLEQ proof, and the proof is checked here against the
// hub's published (or a pinned) public key before anything is unblinded.
//
// Works in a browser (window.AbusehubOprf) and under node (module.exports, which loads the
// vendored bundle itself), for the tests.
//
//   info(kind, version) -> Uint8Array of "abusehub:<kind>:<version>", the POPRF public input.
//
//   await pseudonymise(items, keyDoc, evaluate, options) -> ["poprf-r255:<version>:<128 hex>", ...]
//     items:    [{kind, input}], input the value already NORMALISED, as a string (encoded here
//               in UTF-8: the private input is exactly the normalised text's UTF-8 bytes);
//     keyDoc:   the JSON of GET pseudonyms/key ({suite, mode, info, kinds, max_elements,
//               current, keys: [{key_version, public_key (base64url), current, valid}]});
//     evaluate: async (body) => answer, which sends body ({"key_version": v, "groups":
//               [{"kind": k, "blinded": [base64url, ...]}, ...]}) as POST pseudonyms/evaluate
//               and resolves to the parsed answer ({"key_version": v, "groups": [{"kind",
//               "evaluated": [base64url, ...], "proof": base64url}, ...]});
//     options:  {pinned: {version: public key (Uint8Array or base64url)}} (a plain object or a
//               Map) to check the proofs against pinned keys instead of the published ones.
//     Values are taken in order, keyDoc.max_elements of them (100 at most) per request, with
//     one group per kind in the order the kinds first appear. The pseudonyms come back in the
//     order of items, under the key version keyDoc.current. An answer that does not verify
//     throws an Error named UnverifiableAnswer whose message starts "the hub's answer could not
//     be verified: " (the Python client's UnverifiableAnswer messages), and nothing is returned;
//     bad items or key documents throw an Error naming the item and the rule. No message holds
//     a value.
//
// Lower level (the tests use these with fixed randomness):
//   blindBatch(info, publicKey, inputs, {blinds}) -> {info, inputs, blinds, blinded, tweakedKey}
//   finishBatch(batch, evaluated, proof) -> [64-byte outputs] (verifies first, else throws)
//   tweakedKey(publicKey, info), formatPseudonym(version, output), fixedScalarRng(scalar),
//   b64urlEncode, b64urlDecode (strict), hex, noble() (the vendored nobleCurves namespace).
(function (root) {
  "use strict";
  const SUITE = "ristretto255-SHA512";
  const PREFIX = "poprf-r255";
  const UNVERIFIABLE = "the hub's answer could not be verified: ";
  const MAX_ELEMENTS = 100;
  const ELEMENT_BYTES = 32;
  const SCALAR_BYTES = 32;
  const PROOF_BYTES = 64;
  const OUTPUT_BYTES = 64;
  // RFC 9497 section 5.1: private and public inputs are shorter than 2^16 - 1 bytes.
  const MAX_INPUT_BYTES = 65534;
  const VERSION_RE = /^[A-Za-z0-9_.-]{1,32}$/;
  // Kinds are lower-case words: no ':' in a kind or a version, so "abusehub:<kind>:<version>"
  // parses one way only (RFC 9497 section 5.4).
  const KIND_RE = /^[a-z][a-z0-9_]{0,31}$/;
  const B64URL_RE = /^[A-Za-z0-9_-]*$/;
  const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(^|[^\uD800-\uDBFF])[\uDC00-\uDFFF]/;

  let nobleNamespace = null;

  // The vendored bundle: the global nobleCurves in a browser; under node, evaluated once from
  // ../vendor/noble-curves.js into this context (it is a classic script, not a module).
  function noble() {
    if (nobleNamespace) return nobleNamespace;
    if (!root.nobleCurves && root.process && typeof require === "function" && typeof __dirname === "string") {
      const fs = require("fs");
      const path = require("path");
      const vm = require("vm");
      const file = path.join(__dirname, "..", "vendor", "noble-curves.js");
      vm.runInThisContext(fs.readFileSync(file, "utf8"), { filename: file });
    }
    const ns = root.nobleCurves;
    if (!ns || !ns.ristretto255_oprf || !ns.ristretto255) {
      throw new Error("the page's cryptography (vendor/noble-curves.js) is not loaded");
    }
    nobleNamespace = ns;
    return ns;
  }

  function unverifiable(reason) {
    const err = new Error(UNVERIFIABLE + reason);
    err.name = "UnverifiableAnswer";
    return err;
  }

  // --- Encodings -------------------------------------------------------------------------

  function hex(bytes) {
    let s = "";
    for (const b of bytes) s += (b < 16 ? "0" : "") + b.toString(16);
    return s;
  }

  function b64urlEncode(bytes) {
    const b = new Uint8Array(bytes);
    let out = "";
    let i = 0;
    for (; i + 2 < b.length; i += 3) {
      const n = (b[i] << 16) | (b[i + 1] << 8) | b[i + 2];
      out += B64URL[n >> 18] + B64URL[(n >> 12) & 63] + B64URL[(n >> 6) & 63] + B64URL[n & 63];
    }
    if (b.length - i === 1) {
      const n = b[i] << 16;
      out += B64URL[n >> 18] + B64URL[(n >> 12) & 63];
    } else if (b.length - i === 2) {
      const n = (b[i] << 16) | (b[i + 1] << 8);
      out += B64URL[n >> 18] + B64URL[(n >> 12) & 63] + B64URL[(n >> 6) & 63];
    }
    return out;
  }

  // Strict base64url without padding, as the hub writes it (hub.common.canonical): one spelling
  // per value. Returns null for anything else.
  function b64urlDecode(text) {
    if (typeof text !== "string" || !B64URL_RE.test(text) || text.length % 4 === 1) return null;
    const out = new Uint8Array(Math.floor((text.length * 3) / 4));
    let bits = 0;
    let acc = 0;
    let j = 0;
    for (const ch of text) {
      acc = (acc << 6) | B64URL.indexOf(ch);
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        out[j++] = (acc >> bits) & 255;
      }
    }
    if (acc & ((1 << bits) - 1)) return null; // unused trailing bits must be zero
    return out;
  }

  function utf8(text, what) {
    if (typeof text !== "string") throw new Error(what + " must be a string");
    if (LONE_SURROGATE.test(text)) throw new Error(what + " is not valid Unicode (a lone surrogate)");
    const bytes = new TextEncoder().encode(text);
    if (bytes.length > MAX_INPUT_BYTES) {
      throw new Error(what + " is " + bytes.length + " bytes in UTF-8; RFC 9497 allows at most " + MAX_INPUT_BYTES);
    }
    return bytes;
  }

  function asBytes(value, what) {
    if (value instanceof Uint8Array) return value;
    if (typeof value === "string") {
      const bytes = b64urlDecode(value);
      if (bytes) return bytes;
    }
    throw new Error(what + " must be bytes (a Uint8Array or base64url text)");
  }

  // --- The suite ---------------------------------------------------------------------------

  function checkVersion(version) {
    if (typeof version !== "string" || !VERSION_RE.test(version)) {
      throw new Error("a pseudonym key version is 1-32 characters of letters, digits, '_', '.', '-'");
    }
    return version;
  }

  // The POPRF public input of a kind under a key version: "abusehub:<kind>:<version>".
  function info(kind, version) {
    if (typeof kind !== "string" || !KIND_RE.test(kind)) {
      throw new Error("a pseudonym kind is a lower-case word (such as email or phone)");
    }
    return new TextEncoder().encode("abusehub:" + kind + ":" + checkVersion(version));
  }

  function formatPseudonym(version, output) {
    if (!(output instanceof Uint8Array) || output.length !== OUTPUT_BYTES) {
      throw new Error("a POPRF output is " + OUTPUT_BYTES + " bytes");
    }
    return PREFIX + ":" + checkVersion(version) + ":" + hex(output);
  }

  function scalarOf(bytes, what) {
    if (!(bytes instanceof Uint8Array) || bytes.length !== SCALAR_BYTES) {
      throw new Error(what + " must be " + SCALAR_BYTES + " bytes");
    }
    let n = 0n;
    for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]);
    return n;
  }

  // A random-number source that makes noble's RandomScalar give exactly `scalar` (32 bytes,
  // little-endian, in [1, order - 1]): noble reads n bytes little-endian and maps them to
  // (x mod (order - 1)) + 1, so it is handed x = scalar - 1. For test vectors only: a fixed
  // blind links requests, a fixed proof nonce reveals the key.
  function fixedScalarRng(scalar) {
    const order = noble().ristretto255.Point.Fn.ORDER;
    const value = scalarOf(scalar, "a fixed scalar");
    if (value === 0n || value >= order) throw new Error("a fixed scalar must be in [1, order - 1]");
    return function (n) {
      const out = new Uint8Array(n);
      let x = value - 1n;
      for (let i = 0; i < n; i++) {
        out[i] = Number(x & 255n);
        x >>= 8n;
      }
      return out;
    };
  }

  // RFC 9497 section 4.1 DeserializeElement, with the reasons hub.pseudonyms.oprf gives.
  function elementProblem(bytes, what) {
    if (!(bytes instanceof Uint8Array)) return what + " must be bytes";
    if (bytes.length !== ELEMENT_BYTES) return what + " must be " + ELEMENT_BYTES + " bytes, got " + bytes.length;
    if (bytes.every((b) => b === 0)) return what + " is the identity element";
    try {
      noble().ristretto255.Point.fromBytes(bytes);
    } catch (e) {
      return what + " is not a valid ristretto255 encoding";
    }
    return null;
  }

  // The POPRF tweaked key HashToScalar(framedInfo) * G + pkS (RFC 9497 section 3.3.3).
  function tweakedKey(publicKey, infoBytes) {
    const problem = elementProblem(publicKey, "the public key");
    if (problem) throw unverifiable(problem);
    // noble computes it while blinding; an input is needed, any will do.
    return noble().ristretto255_oprf.poprf(infoBytes).blind(new Uint8Array([0]), publicKey).tweakedKey;
  }

  // Blind (RFC 9497 section 3.3.3) each input (bytes, or text encoded in UTF-8) under `info` for
  // `publicKey`. options.blinds fixes the blinds, for test vectors only.
  function blindBatch(infoBytes, publicKey, inputs, options) {
    const opts = options || {};
    if (!(infoBytes instanceof Uint8Array) || infoBytes.length > MAX_INPUT_BYTES) {
      throw new Error("the public info must be at most " + MAX_INPUT_BYTES + " bytes");
    }
    if (!Array.isArray(inputs) || inputs.length === 0) throw new Error("a batch needs at least one input");
    if (inputs.length > MAX_ELEMENTS) {
      throw new Error("at most " + MAX_ELEMENTS + " values per evaluation, got " + inputs.length);
    }
    if (opts.blinds && opts.blinds.length !== inputs.length) throw new Error("one fixed blind per input");
    const problem = elementProblem(publicKey, "the public key");
    if (problem) throw unverifiable(problem);
    const poprf = noble().ristretto255_oprf.poprf(infoBytes);
    const bytes = inputs.map((x, i) => (x instanceof Uint8Array ? x : utf8(x, "input " + i)));
    const blinds = [];
    const blinded = [];
    let tweaked = null;
    bytes.forEach((x, i) => {
      const made = opts.blinds ? poprf.blind(x, publicKey, fixedScalarRng(opts.blinds[i])) : poprf.blind(x, publicKey);
      blinds.push(made.blind);
      blinded.push(made.blinded);
      tweaked = made.tweakedKey;
    });
    return { info: infoBytes, inputs: bytes, blinds, blinded, tweakedKey: tweaked };
  }

  // VerifyProof of the hub's batched DLEQ proof for `evaluated` against the batch's blinded
  // elements and tweaked key, then Finalize of each input: the 64-byte outputs, in order.
  function finishBatch(batch, evaluated, proof) {
    if (!Array.isArray(evaluated)) throw unverifiable("the evaluated elements are not a list");
    if (evaluated.length !== batch.blinded.length) {
      throw unverifiable(evaluated.length + " evaluated elements for " + batch.blinded.length + " blinded elements");
    }
    evaluated.forEach((e, i) => {
      const problem = elementProblem(e, "evaluated element " + i);
      if (problem) throw unverifiable(problem);
    });
    if (!(proof instanceof Uint8Array) || proof.length !== PROOF_BYTES) {
      throw unverifiable("the proof must be " + PROOF_BYTES + " bytes");
    }
    const items = batch.inputs.map((input, i) => ({
      input, blind: batch.blinds[i], evaluated: evaluated[i], blinded: batch.blinded[i],
    }));
    try {
      return noble().ristretto255_oprf.poprf(batch.info).finalizeBatch(items, proof, batch.tweakedKey);
    } catch (e) {
      // The elements were checked above: what is left is the proof (a scalar that is not
      // canonical, or a challenge that does not match).
      throw unverifiable("the proof does not hold for the published key");
    }
  }

  // --- Pseudonyms through the hub ------------------------------------------------------------

  function keyOf(keyDoc) {
    const bad = () => new Error("the hub's pseudonym key could not be read: it is not a list of key versions and public keys");
    if (!keyDoc || typeof keyDoc !== "object" || !Array.isArray(keyDoc.keys) || typeof keyDoc.current !== "string") {
      throw bad();
    }
    if (keyDoc.suite !== undefined && keyDoc.suite !== SUITE) {
      throw new Error("the hub's pseudonyms use the suite " + String(keyDoc.suite).slice(0, 40) + "; this page makes " + SUITE + " ones");
    }
    if (keyDoc.mode !== undefined && keyDoc.mode !== "POPRF") {
      throw new Error("the hub's pseudonyms are not made in the POPRF mode this page uses");
    }
    const keys = new Map();
    for (const entry of keyDoc.keys) {
      if (!entry || typeof entry.key_version !== "string" || typeof entry.public_key !== "string") throw bad();
      const pk = b64urlDecode(entry.public_key);
      if (!pk) throw bad();
      keys.set(entry.key_version, pk);
    }
    if (!keys.has(keyDoc.current)) throw bad();
    // The hub's limit per request, never above RFC 9497's batches as the hub evaluates them.
    let max = MAX_ELEMENTS;
    if (Number.isInteger(keyDoc.max_elements) && keyDoc.max_elements > 0) max = Math.min(keyDoc.max_elements, MAX_ELEMENTS);
    const kinds = Array.isArray(keyDoc.kinds) ? keyDoc.kinds : null;
    return { version: checkVersion(keyDoc.current), keys, max, kinds };
  }

  function pinnedKey(pinned, version) {
    const value = pinned instanceof Map ? pinned.get(version)
      : Object.prototype.hasOwnProperty.call(pinned, version) ? pinned[version] : undefined;
    if (value === undefined) throw unverifiable("its key version " + version + " is not among the pinned ones");
    return asBytes(value, "the pinned key of version " + version);
  }

  // One POST pseudonyms/evaluate for `chunk` ([index, {kind, input}]): pseudonyms by index.
  async function evaluateChunk(version, publicKey, chunk, evaluate) {
    const byKind = new Map();
    for (const [i, item] of chunk) {
      if (!byKind.has(item.kind)) byKind.set(item.kind, []);
      byKind.get(item.kind).push([i, item.input]);
    }
    const batches = [];
    for (const [kind, entries] of byKind) {
      const batch = blindBatch(info(kind, version), publicKey, entries.map(([, input]) => input));
      batches.push({ kind, indexes: entries.map(([i]) => i), batch });
    }
    const body = { key_version: version, groups: batches.map((b) => ({ kind: b.kind, blinded: b.batch.blinded.map(b64urlEncode) })) };
    const answer = await evaluate(body);
    const groups = answer && typeof answer === "object" ? answer.groups : undefined;
    if (!answer || answer.key_version !== version || !Array.isArray(groups) || groups.length !== batches.length) {
      throw unverifiable("it does not answer each group of the request under the key version asked for");
    }
    const out = new Map();
    batches.forEach((b, n) => {
      const group = groups[n];
      if (!group || typeof group !== "object" || group.kind !== b.kind || !Array.isArray(group.evaluated)
          || typeof group.proof !== "string" || !group.evaluated.every((e) => typeof e === "string")) {
        throw unverifiable("the group of kind " + b.kind + " is not evaluated elements and a proof");
      }
      const evaluated = group.evaluated.map(b64urlDecode);
      const proof = b64urlDecode(group.proof);
      if (!proof || evaluated.some((e) => e === null)) {
        throw unverifiable("the group of kind " + b.kind + " is not base64url");
      }
      const outputs = finishBatch(b.batch, evaluated, proof);
      b.indexes.forEach((i, j) => out.set(i, formatPseudonym(version, outputs[j])));
    });
    return out;
  }

  async function pseudonymise(items, keyDoc, evaluate, options) {
    const opts = options || {};
    if (!Array.isArray(items)) throw new Error("the values to pseudonymise must be a list of {kind, input}");
    if (typeof evaluate !== "function") throw new Error("evaluate must be a function that sends a request to the hub");
    const doc = keyOf(keyDoc);
    items.forEach((item, i) => {
      if (!item || typeof item !== "object" || typeof item.kind !== "string" || typeof item.input !== "string") {
        throw new Error("items[" + i + "] must be an object with the string members kind and input");
      }
      // The kind is not echoed: a value pasted into it would be.
      if (!KIND_RE.test(item.kind) || (doc.kinds && !doc.kinds.includes(item.kind))) {
        throw new Error("items[" + i + "].kind is not one of the hub's pseudonym kinds"
          + (doc.kinds ? " (" + doc.kinds.join(", ") + ")" : ""));
      }
      if (item.input === "") throw new Error("items[" + i + "].input is empty: give the normalised value");
      utf8(item.input, "items[" + i + "].input");
    });
    if (items.length === 0) return [];
    let publicKey = doc.keys.get(doc.version);
    if (opts.pinned) publicKey = pinnedKey(opts.pinned, doc.version);
    const out = new Array(items.length);
    for (let start = 0; start < items.length; start += doc.max) {
      const chunk = [];
      for (let i = start; i < Math.min(items.length, start + doc.max); i++) chunk.push([i, items[i]]);
      const made = await evaluateChunk(doc.version, publicKey, chunk, evaluate);
      for (const [i, pseudonym] of made) out[i] = pseudonym;
    }
    return out;
  }

  const api = {
    SUITE, PREFIX, UNVERIFIABLE, MAX_ELEMENTS,
    info, pseudonymise,
    blindBatch, finishBatch, tweakedKey, formatPseudonym, fixedScalarRng,
    b64urlEncode, b64urlDecode, hex, noble,
  };
  if (typeof module === "object" && module && root.process) module.exports = api;
  root.AbusehubOprf = api;
})(typeof window !== "undefined" ? window : globalThis);
