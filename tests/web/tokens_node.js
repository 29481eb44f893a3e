// Runs hub/web/static/js/tokens.js under node over the vendored blindrsa.js, both loaded as the
// classic scripts a page loads. One operation per run: its input (JSON) on standard input, its
// result (JSON) out. "vectors": RFC 9578 Appendix A.2 with the vector's nonce, salt and r as the
// only randomness; "begin": token requests for a directory; "finalize": tokens from responses;
// "consistency": checkConsistency of a key against a second directory.
"use strict";
const fs = require("fs");
const path = require("path");
const vm = require("vm");

const root = path.resolve(__dirname, "..", "..");
for (const file of [path.join(root, "hub", "web", "static", "vendor", "blindrsa.js"),
                    path.join(root, "hub", "web", "static", "js", "tokens.js")]) {
  vm.runInThisContext(fs.readFileSync(file, "utf8"), { filename: file });
}
const T = globalThis.AbusehubTokens;
const hex = (b) => Buffer.from(b).toString("hex");
const unhex = (h) => new Uint8Array(Buffer.from(h, "hex"));

async function withRandomness(values, fn) {
  const queue = values.slice();
  const original = crypto.getRandomValues;
  Object.defineProperty(crypto, "getRandomValues", { configurable: true, writable: true, value(array) {
    if (array.byteLength === 0) return array;
    const next = queue.shift();
    if (!next || next.length !== array.byteLength) throw new Error("unexpected getRandomValues of " + array.byteLength);
    new Uint8Array(array.buffer, array.byteOffset, array.byteLength).set(next);
    return array;
  } });
  try {
    return await fn();
  } finally {
    Object.defineProperty(crypto, "getRandomValues", { configurable: true, writable: true, value: original });
    if (queue.length) throw new Error(queue.length + " random values were not drawn");
  }
}

const ops = {
  async vectors(input) {
    const out = [];
    for (const v of input.vectors) {
      const key = await T.readDirectory(v.directory);
      const begun = await withRandomness([unhex(v.nonce), unhex(v.salt), unhex(v.r)], () => T.beginIssuance(key));
      const token = await T.finalizeToken(key, begun.state, unhex(v.token_response));
      out.push({ token_request: hex(T.fromB64url(begun.request)), token: hex(T.fromB64url(token)) });
    }
    return out;
  },
  async begin(input) {
    const key = await T.readDirectory(input.directory);
    const requests = [], states = [];
    for (let i = 0; i < input.count; i++) {
      const begun = await T.beginIssuance(key);
      requests.push(begun.request);
      states.push({ tokenInput: T.toB64url(begun.state.tokenInput), inv: T.toB64url(begun.state.inv) });
    }
    return { requests, states };
  },
  async finalize(input) {
    const key = await T.readDirectory(input.directory);
    const tokens = [];
    for (let i = 0; i < input.states.length; i++) {
      const state = { tokenInput: T.fromB64url(input.states[i].tokenInput), inv: T.fromB64url(input.states[i].inv) };
      try {
        tokens.push(await T.finalizeToken(key, state, input.responses[i]));
      } catch (e) {
        tokens.push({ error: String(e.message || e) });
      }
    }
    return { tokens };
  },
  async consistency(input) {
    const key = await T.readDirectory(input.directory);
    try {
      T.checkConsistency(key, input.second);
      return { ok: true };
    } catch (e) {
      return { ok: false, error: String(e.message || e) };
    }
  },
};

const input = JSON.parse(fs.readFileSync(0, "utf8"));
ops[input.op](input).then(
  (out) => process.stdout.write(JSON.stringify(out)),
  (e) => { process.stderr.write(String(e && e.stack || e)); process.exit(1); });
