// The token mode of "file anonymously" on the report page (docs/WEB.md, "Filing with a token"):
// what `abusehub report new --anonymous --tokens` does, in the browser.
//
// - The hub's token key (its public directory, tokens.js's readDirectory) is used only when every
//   second source the operator names (data-sources: [web] token_key_sources, peer hubs' copies or
//   the directory by another route, read without credentials) shows the same key for the same
//   issuer and epoch; with no source, or one that disagrees, the page neither fetches nor redeems
//   tokens, and says to use the command line with --check-with.
// - Tokens are fetched while signed in (POST /web/anonymity/tokens, the session and CSRF
//   header), each request blinded here, each response finalised and verified here, and kept in
//   IndexedDB ("abusehub-tokens") under their key's id, so that a later filing, in another
//   session too, can spend one; tokens of earlier epochs are dropped.
// - Filing: the key checked again, the withdrawal secret made here (anonymous.js), the escrow
//   record sealed here to the oversight key the provider kept in this browser and signed with its
//   key (escrow.js), one token taken out of the store before it is used (a token tried once is
//   never tried again), and the unsigned objects redeemed with tokens.js's redeem: no cookie, no
//   referrer, no credential of the party.
//
//   window.AbusehubTokenFiling.file({objects, collection, identity, signingKey}) -> {receipt, secret}
(function () {
  "use strict";
  const panel = document.getElementById("token-panel");
  if (!panel) return;
  const T = window.AbusehubTokens;
  const E = window.AbusehubEscrow;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const sources = JSON.parse(panel.dataset.sources || "[]");
  const state = document.getElementById("token-state");
  const fetchButton = document.getElementById("token-fetch");
  const oversightState = document.getElementById("oversight-state");
  const NO_SOURCE = "this hub names no second source to check its token key against ([web] token_key_sources), so " +
    "this page cannot tell that your key is everyone's. File with the command line instead: abusehub report new " +
    "--anonymous --tokens FILE --check-with URL";

  // -- IndexedDB: the tokens by key id, and the oversight key ----------------------------------
  function db() {
    return new Promise((resolve, reject) => {
      const req = indexedDB.open("abusehub-tokens", 1);
      req.onupgradeneeded = () => {
        req.result.createObjectStore("tokens");
        req.result.createObjectStore("oversight");
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }
  // Runs body(store, done) in one transaction; resolves to what done was given once it commits.
  async function inStore(name, mode, body) {
    const d = await db();
    return new Promise((resolve, reject) => {
      const tx = d.transaction(name, mode);
      let result;
      body(tx.objectStore(name), (value) => { result = value; });
      tx.oncomplete = () => resolve(result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error || new Error("this browser's storage refused"));
    });
  }
  function read(name, id) {
    return inStore(name, "readonly", (s, done) => { const req = s.get(id); req.onsuccess = () => done(req.result); });
  }
  function keep(key, tokens) {
    return inStore("tokens", "readwrite", (s, done) => {
      const req = s.get(key.keyIdB64);
      req.onsuccess = () => {
        const entry = req.result || { issuer: key.issuer, epoch: key.epoch, tokens: [] };
        entry.tokens = entry.tokens.concat(tokens);
        s.put(entry, key.keyIdB64);
        done(entry.tokens.length);
      };
    });
  }
  // One token of `key`, out of the store before it is used.
  function take(key) {
    return inStore("tokens", "readwrite", (s, done) => {
      const req = s.get(key.keyIdB64);
      req.onsuccess = () => {
        const entry = req.result;
        if (!entry || !entry.tokens.length) { done(null); return; }
        done(entry.tokens.shift());
        s.put(entry, key.keyIdB64);
      };
    });
  }
  // Tokens of keys of earlier epochs are refused by the hub: dropped.
  function prune(key) {
    return inStore("tokens", "readwrite", (s) => {
      const req = s.openCursor();
      req.onsuccess = () => {
        const cursor = req.result;
        if (!cursor) return;
        if (cursor.value.issuer === key.issuer && cursor.value.epoch < key.epoch) cursor.delete();
        cursor.continue();
      };
    });
  }

  // -- the key, checked ------------------------------------------------------------------------
  async function getJson(url) {
    const resp = await fetch(url, { credentials: "omit", cache: "no-store", referrerPolicy: "no-referrer",
                                    headers: { Accept: "application/json" } });
    if (!resp.ok) throw new Error("it answered " + resp.status);
    return resp.json();
  }
  let holders = null;  // how many parties hold tokens of the epoch, as the directory says
  async function checkedKey() {
    if (!sources.length) throw new Error(NO_SOURCE);
    const doc = await getJson(panel.dataset.directoryUrl);
    const key = await T.readDirectory(doc);
    holders = Number.isInteger(doc.holders_this_epoch) ? doc.holders_this_epoch : null;
    for (const url of sources) {
      let second;
      try {
        second = await getJson(url);
      } catch (e) {
        throw new Error("the second source " + url + " could not be read (" + e.message + "): not using the hub's key");
      }
      try {
        T.checkConsistency(key, second);
      } catch (e) {
        throw new Error(url + ": " + e.message + ". File with the command line (--check-with) once the sources agree");
      }
    }
    return key;
  }

  // -- fetching tokens -------------------------------------------------------------------------
  async function fetchTokens(count) {
    const key = await checkedKey();
    const begun = [];
    for (let i = 0; i < count; i++) begun.push(await T.beginIssuance(key));
    const resp = await fetch(panel.dataset.issueUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ token_key_id: key.keyIdB64, requests: begun.map((b) => b.request) }),
    });
    let answer = {};
    try { answer = await resp.json(); } catch (e) { /* no JSON */ }
    if (!resp.ok) throw new Error(answer.description || "the hub answered " + resp.status);
    if (answer.epoch !== key.epoch || answer.token_key_id !== key.keyIdB64 || !Array.isArray(answer.responses)
        || answer.responses.length !== count) {
      throw new Error("the hub answered for another key, or another number of requests");
    }
    const tokens = [];
    for (let i = 0; i < count; i++) tokens.push(await T.finalizeToken(key, begun[i].state, answer.responses[i]));
    return keep(key, tokens);
  }

  async function refresh() {
    state.dataset.tokens = "checking";  // until the sources answered
    try {
      const key = await checkedKey();
      await prune(key);
      const entry = await read("tokens", key.keyIdB64);
      const n = entry ? entry.tokens.length : 0;
      state.textContent = n + " submission token" + (n === 1 ? "" : "s") + " of " + key.issuer + "'s key of epoch " +
        key.epoch + " kept in this browser" + (n ? "." : ": fetch some to file with one.") +
        (holders === null ? "" : " " + holders + (holders === 1 ? " party holds" : " parties hold") +
          " tokens of this epoch" + (holders < 3 ? ": a report filed now hides among that few." : "."));
      state.className = "ok";
      state.dataset.tokens = String(n);
      fetchButton.disabled = false;
    } catch (e) {
      state.textContent = "Not using the token mode: " + e.message;
      state.className = "error";
      state.dataset.tokens = "refused";
      fetchButton.disabled = true;
    }
  }

  fetchButton.addEventListener("click", async () => {
    fetchButton.disabled = true;
    const count = Math.max(1, Math.min(100, Number(document.getElementById("token-count").value) || 1));
    state.textContent = "Fetching " + count + " tokens…";
    state.dataset.tokens = "fetching";
    try {
      await fetchTokens(count);
    } catch (e) {
      state.textContent = "No tokens fetched: " + e.message;
      state.className = "error";
      state.dataset.tokens = "refused";
      fetchButton.disabled = false;
      return;
    }
    await refresh();
  });

  // -- the oversight key -----------------------------------------------------------------------
  async function showOversight() {
    const kept = await read("oversight", "key");
    oversightState.textContent = kept ? "The oversight key " + kept.keyId.slice(0, 16) + "… is kept in this browser."
      : "No oversight key in this browser yet: paste the one the oversight body gave you.";
    oversightState.className = kept ? "ok" : "";
  }
  document.getElementById("oversight-keep").addEventListener("click", async () => {
    const input = document.getElementById("oversight-input");
    try {
      const key = await E.readOversightKey(input.value);
      await inStore("oversight", "readwrite", (s) => s.put({ pem: input.value.trim(), keyId: key.keyId }, "key"));
      input.value = "";
    } catch (e) {
      oversightState.textContent = "The oversight key was not kept: " + e.message;
      oversightState.className = "error";
      return;
    }
    await showOversight();
  });

  // -- filing ----------------------------------------------------------------------------------
  async function file({ objects, collection, identity, signingKey }) {
    const kept = await read("oversight", "key");
    if (!kept) throw new Error("keep the oversight body's public key in this browser first: the record of who filed is sealed to it");
    const oversight = await E.readOversightKey(kept.pem);
    const key = await checkedKey();
    const A = window.AbusehubAnonymous;
    const secret = A.newSecret();
    const committed = await A.commitment(secret);
    const canonicalize = module.exports;  // the vendored RFC 8785 package (see cjs-shim.js)
    const sealed = await E.sealSubmitterRecord(canonicalize, signingKey, panel.dataset.party, identity, objects, committed,
                                               key.issuer, oversight);
    const token = await take(key);
    if (!token) throw new Error("no submission token of epoch " + key.epoch + " is kept in this browser: fetch tokens first");
    try {
      const receipt = await T.redeem(panel.dataset.api, { collection, objects, withdrawal_commitment: committed,
                                                          sealed_record: sealed }, token);
      return { receipt, secret };
    } finally {
      refresh();
    }
  }

  window.AbusehubTokenFiling = { file, refresh };
  showOversight();
  refresh();
})();
