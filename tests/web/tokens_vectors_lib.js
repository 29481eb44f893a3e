// RFC 9578 Appendix A.2 through hub/web/static/js/tokens.js (over the vendored blindrsa.js): a
// classic script, run by node (tests/web/tokens_node.js) and by Chromium
// (tests/web/test_tokens_browser.py) alike. It defines the global `tokensVectors(input)`, whose
// promise gives, per vector, the TokenRequest and the Token made (hex), or the error raised.
// While a token request is made, crypto.getRandomValues hands out the vector's nonce, salt and r
// in that order and refuses any other call.
"use strict";

(function (root) {
  function fromHex(hex) {
    const out = new Uint8Array(hex.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(2 * i, 2), 16);
    return out;
  }
  function toHex(bytes) {
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  async function withRandomness(values, fn) {
    const queue = values.slice();
    const original = crypto.getRandomValues;
    const stub = function (array) {
      if (array.byteLength === 0) return array;
      const next = queue.shift();
      if (!next || next.length !== array.byteLength) {
        throw new Error("unexpected getRandomValues of " + array.byteLength + " bytes");
      }
      new Uint8Array(array.buffer, array.byteOffset, array.byteLength).set(next);
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

  root.tokensVectors = async function (input) {
    const T = root.AbusehubTokens;
    const out = [];
    for (const v of input.vectors) {
      try {
        const key = await T.readDirectory(v.directory);
        const begun = await withRandomness([fromHex(v.nonce), fromHex(v.salt), fromHex(v.r)],
                                           () => T.beginIssuance(key));
        const token = await T.finalizeToken(key, begun.state, fromHex(v.token_response));
        out.push({ token_request: toHex(T.fromB64url(begun.request)), token: toHex(T.fromB64url(token)) });
      } catch (e) {
        out.push({ error: String(e && e.stack || e) });
      }
    }
    return out;
  };
})(typeof globalThis !== "undefined" ? globalThis : this);
