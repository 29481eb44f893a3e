// The page's oprf.js under node, driven over a pipe by tests/web/test_oprf_js.py: one JSON
// object a line each way, so that the hub's side of each request is the real Python code.
//
//   in:  {"op": "pseudonymise", "items": [{kind, input}], "key": <GET pseudonyms/key JSON>,
//         "options": {...}}
//        each request oprf.js makes goes out as {"evaluate": body}, and the next line in is
//        {"answer": <the hub's JSON>} or {"fail": "message"} (evaluate rejects);
//   out: {"result": [pseudonyms]} or {"error": message, "name": error name}.
//   in:  {"op": "b64", "texts": [...]}  out: {"result": [hex or null]} (strict base64url)
//   in:  {"op": "info", "kind", "version"}  out: {"result": hex} or {"error": ...}
"use strict";
const path = require("path");
const readline = require("readline");
const O = require(path.join(process.argv[2], "hub/web/static/js/oprf.js"));

const lines = [];
const waiting = [];
readline.createInterface({ input: process.stdin }).on("line", (line) => {
  if (waiting.length) waiting.shift()(line);
  else lines.push(line);
}).on("close", () => { while (waiting.length) waiting.shift()(null); });

function nextLine() {
  return lines.length ? Promise.resolve(lines.shift()) : new Promise((resolve) => waiting.push(resolve));
}

function send(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

async function evaluate(body) {
  send({ evaluate: body });
  const line = await nextLine();
  if (line === null) throw new Error("the test closed the pipe");
  const reply = JSON.parse(line);
  if ("fail" in reply) throw new Error(reply.fail);
  return reply.answer;
}

async function handle(cmd) {
  if (cmd.op === "pseudonymise") {
    const options = { ...(cmd.options || {}) };
    if (options.pinned_hex) {
      // Pinned keys as bytes in a Map, the other form oprf.js takes.
      options.pinned = new Map(Object.entries(options.pinned_hex).map(([v, h]) => [v, Uint8Array.from(Buffer.from(h, "hex"))]));
      delete options.pinned_hex;
    }
    return await O.pseudonymise(cmd.items, cmd.key, evaluate, options);
  }
  if (cmd.op === "b64") return cmd.texts.map((t) => { const b = O.b64urlDecode(t); return b ? O.hex(b) : null; });
  if (cmd.op === "b64encode") return cmd.hex.map((h) => O.b64urlEncode(Uint8Array.from(Buffer.from(h, "hex"))));
  if (cmd.op === "info") return O.hex(O.info(cmd.kind, cmd.version));
  throw new Error("unknown op " + cmd.op);
}

(async () => {
  for (;;) {
    const line = await nextLine();
    if (line === null) break;
    try {
      send({ result: await handle(JSON.parse(line)) });
    } catch (e) {
      send({ error: String(e && e.message ? e.message : e), name: e && e.name });
    }
  }
})();
