// Runs the page's signing code (hub/web/static/js/signing.js) and the vendored RFC 8785 package
// under node, for tests/web/test_signing_js.py: reads {"cases": [{"obj", "entry"}], "kat":
// {"obj", "jwk", "signer", "signed"}} on stdin, writes {"inputs": [base64 of each signed form],
// "kat": {"kid", "value"}}.
"use strict";
const path = require("path");
const root = process.argv[2];
const canonicalize = require(path.join(root, "hub/web/static/vendor/canonicalize.js"));
const S = require(path.join(root, "hub/web/static/js/signing.js"));

let text = "";
process.stdin.on("data", (d) => { text += d; });
process.stdin.on("end", async () => {
  const input = JSON.parse(text);
  const inputs = input.cases.map((c) => Buffer.from(S.signingInput(canonicalize, c.obj, c.entry)).toString("base64"));
  const k = input.kat;
  const stored = await S.importPrivateKey(canonicalize, JSON.stringify(k.jwk));
  const signed = await S.signObject(canonicalize, k.obj, stored, k.signer, k.signed);
  const sigs = signed.extensions[S.EXTENSION].signatures;
  process.stdout.write(JSON.stringify({ inputs, kat: { kid: stored.kid, entry: sigs[sigs.length - 1] } }));
});
