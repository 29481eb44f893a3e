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
                    path.join(root, "hub", "web", "static", "js", "tokens.js"),
                    path.join(__dirname, "tokens_vectors_lib.js")]) {
  vm.runInThisContext(fs.readFileSync(file, "utf8"), { filename: file });
}
const T = globalThis.AbusehubTokens;

const ops = {
  async vectors(input) {
    return globalThis.tokensVectors(input);
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
