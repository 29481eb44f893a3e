// Runs RFC 9497 test vectors (ristretto255-SHA512, Appendix A.1) through the vendored
// noble-curves bundle and the page's hub/web/static/js/oprf.js, with each vector's blinds and
// proof randomness fixed; shared by the node harness (tests/web/oprf_vectors.js) and the page
// of tests/web/test_oprf_browser.py. It reports what it computed, hex; the Python tests compare.
//
// Input: {"seed", "key_info", "vectors": [{"id", "mode" ("OPRF"|"VOPRF"|"POPRF"), "inputs",
// "blinds", "info", "proof_random"}]}, all hex. Output per vector: {"id", "sk", "pk",
// "blinded", "evaluated", "proof", "outputs", "noble_outputs", "direct", "tweaked",
// "tweaked_again", "refused"} where refused is the message of a tampered proof's refusal.
(function (root) {
  "use strict";

  function unhex(text) {
    const out = new Uint8Array(text.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(text.substr(2 * i, 2), 16);
    return out;
  }

  function tampered(proof) {
    const copy = Uint8Array.from(proof);
    copy[0] ^= 1; // the challenge changes; still a canonical scalar
    return copy;
  }

  function refusal(fn) {
    try {
      fn();
    } catch (e) {
      return String(e && e.message ? e.message : e);
    }
    return null;
  }

  function runOne(O, v, seed, keyInfo) {
    const N = O.noble().ristretto255_oprf;
    const hex = O.hex;
    const inputs = v.inputs.map(unhex);
    const blinds = v.blinds.map(unhex);
    const out = { id: v.id, tweaked: "", tweaked_again: "", proof: "", refused: null, noble_outputs: [] };
    if (v.mode === "OPRF") {
      const M = N.oprf;
      const keys = M.deriveKeyPair(seed, keyInfo);
      const made = inputs.map((x, i) => M.blind(x, O.fixedScalarRng(blinds[i])));
      const evaluated = made.map((b) => M.blindEvaluate(keys.secretKey, b.blinded));
      Object.assign(out, {
        sk: hex(keys.secretKey), pk: hex(keys.publicKey),
        blinds: made.map((b) => hex(b.blind)),
        blinded: made.map((b) => hex(b.blinded)),
        evaluated: evaluated.map(hex),
        outputs: inputs.map((x, i) => hex(M.finalize(x, made[i].blind, evaluated[i]))),
        direct: inputs.map((x) => hex(M.evaluate(keys.secretKey, x))),
      });
      out.noble_outputs = out.outputs;
      return out;
    }
    if (v.mode === "VOPRF") {
      const M = N.voprf;
      const keys = M.deriveKeyPair(seed, keyInfo);
      const made = inputs.map((x, i) => M.blind(x, O.fixedScalarRng(blinds[i])));
      const answer = M.blindEvaluateBatch(keys.secretKey, keys.publicKey, made.map((b) => b.blinded),
        O.fixedScalarRng(unhex(v.proof_random)));
      const items = inputs.map((x, i) => ({ input: x, blind: made[i].blind, evaluated: answer.evaluated[i], blinded: made[i].blinded }));
      Object.assign(out, {
        sk: hex(keys.secretKey), pk: hex(keys.publicKey),
        blinds: made.map((b) => hex(b.blind)),
        blinded: made.map((b) => hex(b.blinded)),
        evaluated: answer.evaluated.map(hex),
        proof: hex(answer.proof),
        outputs: M.finalizeBatch(items, keys.publicKey, answer.proof).map(hex),
        direct: inputs.map((x) => hex(M.evaluate(keys.secretKey, x))),
        refused: refusal(() => M.finalizeBatch(items, keys.publicKey, tampered(answer.proof))),
      });
      out.noble_outputs = out.outputs;
      return out;
    }
    // POPRF: the client's side through the page's oprf.js, the server's through noble.
    const info = unhex(v.info);
    const M = N.poprf(info);
    const keys = M.deriveKeyPair(seed, keyInfo);
    const batch = O.blindBatch(info, keys.publicKey, inputs, { blinds });
    const answer = M.blindEvaluateBatch(keys.secretKey, batch.blinded, O.fixedScalarRng(unhex(v.proof_random)));
    const items = inputs.map((x, i) => ({ input: x, blind: batch.blinds[i], evaluated: answer.evaluated[i], blinded: batch.blinded[i] }));
    Object.assign(out, {
      sk: hex(keys.secretKey), pk: hex(keys.publicKey),
      blinds: batch.blinds.map(hex),
      blinded: batch.blinded.map(hex),
      evaluated: answer.evaluated.map(hex),
      proof: hex(answer.proof),
      outputs: O.finishBatch(batch, answer.evaluated, answer.proof).map(hex),
      noble_outputs: M.finalizeBatch(items, answer.proof, batch.tweakedKey).map(hex),
      direct: inputs.map((x) => hex(M.evaluate(keys.secretKey, x))),
      tweaked: hex(batch.tweakedKey),
      tweaked_again: hex(O.tweakedKey(keys.publicKey, info)),
      refused: refusal(() => O.finishBatch(batch, answer.evaluated, tampered(answer.proof))),
    });
    return out;
  }

  function run(O, data) {
    const seed = unhex(data.seed);
    const keyInfo = unhex(data.key_info);
    return data.vectors.map((v) => {
      try {
        return runOne(O, v, seed, keyInfo);
      } catch (e) {
        return { id: v.id, error: String(e && e.stack ? e.stack : e) };
      }
    });
  }

  const api = { run, unhex };
  if (typeof module === "object" && module && root.process) module.exports = api;
  root.OprfVectors = api;
})(typeof window !== "undefined" ? window : globalThis);
