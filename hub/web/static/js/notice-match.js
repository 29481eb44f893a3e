// Matching a provider's own accounts against the notices in force, in this browser: the rules of
// `abusehub notice match` (hub/client/notices.py). The account file dropped into the page (CSV
// with a header, or JSON lines, with the columns of ACCOUNT_FIELDS) is read here and NEVER sent:
// each row is checked and normalised (normalise.js), the account id and the personal values are
// blinded (oprf.js) and evaluated by the hub at /web/pseudonyms/evaluate, whose proof is checked
// against its published key, and the pseudonyms are kept in this browser (IndexedDB, per party)
// under every key version the hub publishes, as the command line keeps them next to the file:
// only values missing under the current version are evaluated again, and a version is kept for
// CACHE_KEEPS_DAYS days after the hub last published it, so notices issued under it keep matching
// after a rotation. A row that does not parse is named with its reason (never its values); the
// others are matched. Per notice, the accounts it affects and why, and a link to acknowledge it.
(function () {
  "use strict";
  const page = document.getElementById("match-page");
  if (!page) return;
  const N = window.AbusehubNormalise;
  const O = window.AbusehubOprf;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const identity = page.dataset.identity;
  const countries = new Set(JSON.parse(page.dataset.countries));
  const notices = JSON.parse(document.getElementById("notices-json").textContent);
  const state = document.getElementById("match-state");
  const results = document.getElementById("match-results");
  const ACCOUNT_FIELDS = ["account_id", "country", "reseller_name", "reseller_country", "reseller_registration",
    "email", "phone", "payment_instrument", "ips", "domains"];
  const PERSONAL = ["email", "phone", "payment_instrument"];
  const CACHE_KEEPS_DAYS = 365;
  const DAY_MS = 86400000;
  const SHOWN = 200;  // accounts listed per notice on the page; the results file has them all
  let downloadUrl = null;
  const CHUNK = 200;  // values per call of oprf.js (it sends at most the hub's max_elements per request)
  const IN_FLIGHT = 2;
  let lastResults = "";
  // The text of the last results file, for a script driving the page (the tests).
  window.AbusehubNoticeMatch = { results: () => lastResults };

  function say(text, bad) {
    state.textContent = text;
    state.className = bad ? "error" : "";
  }

  // -- reading the file ------------------------------------------------------------------------

  // CSV (RFC 4180: quotes, doubled quotes, line breaks in quotes): [line number of the row's end, cells].
  function csvRecords(text) {
    const out = [];
    let row = [], cell = "", quoted = false, line = 1, i = 0;
    const end = () => { row.push(cell); out.push([line, row]); row = []; cell = ""; };
    while (i < text.length) {
      const c = text[i];
      if (quoted) {
        if (c === '"' && text[i + 1] === '"') { cell += '"'; i += 2; continue; }
        if (c === '"') { quoted = false; i++; continue; }
        if (c === "\n") line++;
        cell += c; i++; continue;
      }
      if (c === '"' && cell === "") { quoted = true; i++; continue; }
      if (c === ",") { row.push(cell); cell = ""; i++; continue; }
      if (c === "\r" && text[i + 1] === "\n") { i++; continue; }
      if (c === "\n" || c === "\r") { end(); line++; i++; continue; }
      cell += c; i++;
    }
    if (cell !== "" || row.length) end();
    return out.filter(([, cells]) => !(cells.length === 1 && cells[0] === ""));
  }

  function* rows(name, text) {
    if (/\.(jsonl|json|ndjson)$/i.test(name) || text.trimStart().startsWith("{")) {
      const lines = text.split(/\r?\n/);
      for (let n = 0; n < lines.length; n++) {
        if (!lines[n].trim()) continue;
        let data;
        try { data = JSON.parse(lines[n]); } catch (e) { yield [n + 1, "not a JSON object"]; continue; }
        yield [n + 1, data && typeof data === "object" && !Array.isArray(data) ? data : "not a JSON object"];
      }
      return;
    }
    const records = csvRecords(text);
    if (!records.length) return;
    const header = records[0][1];
    for (const [line, cells] of records.slice(1)) {
      if (cells.length > header.length) { yield [line, "more cells than the header has columns"]; continue; }
      const row = {};
      header.forEach((h, k) => { row[h] = k < cells.length ? cells[k] : null; });
      yield [line, row];
    }
  }

  function split(value) {
    if (value === null || value === undefined) return [];
    if (Array.isArray(value)) return value.map((v) => String(v).trim()).filter(Boolean);
    return String(value).replace(/[,;]/g, " ").split(/\s+/).filter(Boolean);
  }
  function country(value) {
    const code = String(value || "").trim().toUpperCase();
    return countries.has(code) ? code : null;
  }
  function resellerName(value) {
    const text = value.normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase().replace(/ß/g, "ss");
    return text.normalize("NFKC").replace(/[^0-9a-z]+/g, " ").trim();
  }
  function registration(value) {
    return value.normalize("NFKC").toUpperCase().replace(/[^0-9A-Z]+/g, "");
  }

  // -- addresses and networks, as BigInt ---------------------------------------------------------

  function ipv4(text) {
    const parts = text.split(".");
    if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) < 256)) return null;
    return parts.reduce((acc, p) => (acc << 8n) + BigInt(p), 0n);
  }
  function ipv6(text) {
    if (!/^[0-9a-fA-F:.]+$/.test(text) || !text.includes(":")) return null;
    let host;
    try { host = new URL("http://[" + text + "]/").hostname.slice(1, -1); } catch (e) { return null; }
    const [head, tail] = host.includes("::") ? host.split("::") : [host, null];
    const a = head ? head.split(":") : [];
    const b = tail === null ? [] : (tail ? tail.split(":") : []);
    const groups = tail === null ? a : [...a, ...Array(8 - a.length - b.length).fill("0"), ...b];
    if (groups.length !== 8) return null;
    return groups.reduce((acc, g) => (acc << 16n) + BigInt("0x" + g), 0n);
  }
  function address(text) {
    const v4 = ipv4(text);
    if (v4 !== null) return { version: 4, value: v4 };
    const v6 = ipv6(text);
    return v6 === null ? null : { version: 6, value: v6 };
  }
  function masked(value, version, length) {
    const bits = version === 4 ? 32 : 128;
    return value >> BigInt(bits - length) << BigInt(bits - length);
  }
  function network(text) {
    const [addr, len] = text.split("/");
    const a = address(addr);
    if (!a) return null;
    const length = len === undefined ? (a.version === 4 ? 32 : 128) : Number(len);
    return { version: a.version, length, value: masked(a.value, a.version, length) };
  }
  function domain(text) {
    const name = text.trim().replace(/\.$/, "").toLowerCase();
    if (address(name) || name.includes("/") || name.includes(":")) return null;
    let host;
    try { host = new URL("http://" + name + "/").hostname; } catch (e) { return null; }
    return /^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(host) && /[a-z]/.test(host.split(".").pop()) ? host : null;
  }

  // -- one row, as hub.client.notices._account reads it -------------------------------------------

  function account(row) {
    const accountId = String(row.account_id || "").trim();
    if (!accountId) throw new Error("account_id is missing");
    const unknown = Object.keys(row).filter((k) => !ACCOUNT_FIELDS.includes(k)).sort();
    if (unknown.length) throw new Error("unknown column(s) " + unknown.join(", "));
    let declared = null;
    if (String(row.country || "").trim()) {
      declared = country(row.country);
      if (!declared) throw new Error("country must be an ISO 3166-1 alpha-2 code");
    }
    const personal = [];
    for (const kind of PERSONAL) {
      if (!String(row[kind] || "").trim()) continue;
      try {
        personal.push([kind, N.normalise(kind, String(row[kind]), declared || undefined)]);
      } catch (e) {
        throw new Error(kind + " is not a valid value of its kind");
      }
    }
    const ips = split(row.ips).map((t) => {
      const a = address(t);
      if (!a) throw new Error("ips holds something that is not an IP address");
      return a;
    });
    const domains = split(row.domains).map((t) => {
      const d = domain(t);
      if (!d) throw new Error("domains holds something that is not a domain name");
      return d;
    });
    let reseller = null;
    const rname = String(row.reseller_name || "").trim();
    if (rname) {
      const rc = country(row.reseller_country || "");
      if (!rc) throw new Error("reseller_country must be an ISO 3166-1 alpha-2 code");
      const reg = String(row.reseller_registration || "").trim();
      reseller = [resellerName(rname), rc, reg ? registration(reg) : null];
    }
    const values = [["provider_account", N.normalise("provider_account", N.providerAccountValue(identity, accountId))],
      ...personal];
    return { accountId, country: declared, reseller, values, ips, domains, pseudonyms: new Set() };
  }

  // -- the cache of pseudonyms, per party and key version (IndexedDB) ------------------------------

  function db() {
    return new Promise((resolve, reject) => {
      const req = indexedDB.open("abusehub-pseudonyms", 1);
      req.onupgradeneeded = () => req.result.createObjectStore("caches");
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }
  async function idb(mode, fn) {
    const d = await db();
    return new Promise((resolve, reject) => {
      const tx = d.transaction("caches", mode);
      const req = fn(tx.objectStore("caches"));
      tx.oncomplete = () => resolve(req.result);
      tx.onerror = () => reject(tx.error);
    });
  }
  const slot = "party:" + identity;
  async function valueKey(kind, value) {
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(kind + "\0" + value));
    return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
  }
  function published(cache, versions, now) {
    for (const v of versions) cache.versions[v] = now.toISOString();
    const limit = new Date(now.getTime() - CACHE_KEEPS_DAYS * DAY_MS).toISOString();
    const gone = Object.keys(cache.versions).filter((v) => cache.versions[v] < limit);
    for (const v of gone) delete cache.versions[v];
    if (gone.length) for (const entry of Object.values(cache.values)) for (const v of gone) delete entry[v];
  }

  async function json(resp) {
    try { return await resp.json(); } catch (e) { return {}; }
  }
  async function publishedKey() {
    const resp = await fetch(page.dataset.keyUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (!resp.ok) throw new Error("the hub's pseudonym key could not be read (" + resp.status + ")");
    return json(resp);
  }
  async function evaluate(body) {
    const resp = await fetch(page.dataset.evaluateUrl, {
      method: "POST", credentials: "same-origin", body: JSON.stringify(body),
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrf },
    });
    const answer = await json(resp);
    if (!resp.ok) throw new Error("the hub did not evaluate the blinded values: " + (answer.description || resp.status));
    return answer;
  }

  // The accounts' pseudonyms (every cached version); how many values the hub evaluated now.
  async function pseudonymise(accounts) {
    const keyDoc = await publishedKey();
    const cache = (await idb("readonly", (s) => s.get(slot))) || { versions: {}, values: {} };
    const versions = keyDoc.keys.map((k) => k.key_version);
    published(cache, versions, new Date());
    const unique = new Map();
    for (const a of accounts) for (const [kind, value] of a.values) unique.set(kind + "\0" + value, [kind, value]);
    const pairs = Array.from(unique.values());
    const keys = await Promise.all(pairs.map(([kind, value]) => valueKey(kind, value)));
    const keyed = new Map();
    const missing = [];
    pairs.forEach(([kind, value], i) => {
      keyed.set(kind + "\0" + value, keys[i]);
      const have = cache.values[keys[i]];
      if (!(have && have[keyDoc.current])) missing.push({ kind, input: value, key: keys[i] });
    });
    if (missing.length) {
      // Chunks of values, IN_FLIGHT at a time: one chunk is blinded or verified here while the
      // hub evaluates another.
      const chunks = [];
      for (const version of versions) {
        for (let start = 0; start < missing.length; start += CHUNK) chunks.push([version, missing.slice(start, start + CHUNK)]);
      }
      let done = 0;
      const worker = async () => {
        while (chunks.length) {
          const [version, chunk] = chunks.shift();
          const made = await O.pseudonymise(chunk.map(({ kind, input }) => ({ kind, input })),
            { ...keyDoc, current: version }, evaluate);
          chunk.forEach((m, i) => { (cache.values[m.key] = cache.values[m.key] || {})[version] = made[i]; });
          done += chunk.length;
          say("Pseudonymised " + done + " of " + missing.length * versions.length + " value(s) in this browser…", false);
        }
      };
      await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    }
    await idb("readwrite", (s) => s.put(cache, slot));
    for (const a of accounts) {
      for (const [kind, value] of a.values) {
        for (const p of Object.values(cache.values[keyed.get(kind + "\0" + value)] || {})) a.pseudonyms.add(p);
      }
    }
    return missing.length;
  }

  // -- matching, as hub.client.notices._Index --------------------------------------------------------

  function index() {
    const ix = { countries: new Map(), resellers: new Map(), pseudonyms: new Map(), domains: new Map(), networks: new Map() };
    const add = (map, key, value) => { if (!map.has(key)) map.set(key, []); map.get(key).push(value); };
    notices.forEach((n, i) => {
      for (const c of n.jurisdictions || []) add(ix.countries, c, i);
      for (const r of n.resellers || []) add(ix.resellers, r.name + "\n" + r.country, [i, r.registration_number || null]);
      const ps = new Set(Object.values(n.account_pseudonyms || {}).flat());
      for (const p of ps) add(ix.pseudonyms, p, i);
      for (const d of n.domains || []) add(ix.domains, d, i);
      for (const text of n.ip_ranges || []) {
        const net = network(text);
        if (!net) continue;
        const k = net.version + "/" + net.length;
        if (!ix.networks.has(k)) ix.networks.set(k, { version: net.version, length: net.length, nets: new Map() });
        add(ix.networks.get(k).nets, net.value.toString(), i);
      }
    });
    return ix;
  }
  function reasons(ix, a) {
    const found = new Map();
    const add = (indexes, reason) => {
      for (const i of indexes) {
        if (!found.has(i)) found.set(i, []);
        if (!found.get(i).includes(reason)) found.get(i).push(reason);
      }
    };
    if (a.country) add(ix.countries.get(a.country) || [], "jurisdiction " + a.country);
    if (a.reseller) {
      const [name, c, reg] = a.reseller;
      add((ix.resellers.get(name + "\n" + c) || []).filter(([, r]) => r === null || r === reg).map(([i]) => i), "reseller");
    }
    for (const p of a.pseudonyms) add(ix.pseudonyms.get(p) || [], "pseudonym");
    for (const ip of a.ips) {
      for (const { version, length, nets } of ix.networks.values()) {
        if (version === ip.version) add(nets.get(masked(ip.value, version, length).toString()) || [], "ip range");
      }
    }
    for (const d of a.domains) {
      const labels = d.split(".");
      for (let k = 0; k < labels.length; k++) add(ix.domains.get(labels.slice(k).join(".")) || [], "domain");
    }
    return found;
  }

  // -- the page ------------------------------------------------------------------------------------

  function el(tag, text, attrs) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = text;
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    return e;
  }
  // The results as `abusehub notice match --json` prints them: one JSON line per notice, then
  // one per row not matched; offered as a file made in this browser (nothing is sent).
  function download(matches, problems) {
    const lines = matches.map(({ notice, accounts }) => JSON.stringify({
      notice: notice.id, title: notice.name, notice_kind: notice.notice_kind, measures: notice.measures || [],
      accounts: accounts.map(([id, why]) => ({ account_id: id, reasons: why })) }));
    for (const p of problems) lines.push(JSON.stringify({ row: p.row, problem: p.problem }));
    if (downloadUrl) URL.revokeObjectURL(downloadUrl);
    lastResults = lines.join("\n") + "\n";
    downloadUrl = URL.createObjectURL(new Blob([lastResults], { type: "application/x-ndjson" }));
    return el("a", "Save the results (JSON lines, as notice match --json writes them)",
      { href: downloadUrl, download: "notice-matches.jsonl", id: "results-file" });
  }
  function render(matches, problems, evaluated, total) {
    results.replaceChildren();
    results.appendChild(el("p", total + " account(s) read, " + problems.length + " row(s) not matched; "
      + evaluated + " value(s) pseudonymised now, the others from this browser's cache. The file was not sent.",
    { id: "match-summary", "data-accounts": String(total), "data-problems": String(problems.length),
      "data-evaluated": String(evaluated) }));
    results.appendChild(download(matches, problems));
    if (problems.length) {
      const ul = el("ul", null, { id: "row-problems", class: "field-error" });
      for (const p of problems) ul.appendChild(el("li", "row " + p.row + ": " + p.problem, { "data-row": String(p.row) }));
      results.appendChild(ul);
    }
    matches.forEach(({ notice, accounts }) => {
      const sec = el("section", null, { class: "notice-match", "data-notice": notice.id, "data-count": String(accounts.length) });
      const h = el("h3");
      h.appendChild(el("a", "Notice " + notice._number + ": " + notice.name, { href: notice._url }));
      sec.appendChild(h);
      sec.appendChild(el("p", accounts.length + " of your accounts affected"
        + (notice.measures ? " (" + notice.measures.join(", ") + ")" : ""), { class: "hint" }));
      if (accounts.length) {
        const ul = el("ul", null, { class: "affected" });
        for (const [id, why] of accounts.slice(0, SHOWN)) ul.appendChild(el("li", id + ": " + why.join(", ")));
        sec.appendChild(ul);
        if (accounts.length > SHOWN) {
          sec.appendChild(el("p", "… and " + (accounts.length - SHOWN) + " more: every one is in the results file.",
            { class: "hint more" }));
        }
      }
      const status = accounts.length ? "applied" : "not-applicable";
      const link = el("a", "Acknowledge: " + status + ", " + accounts.length + " account(s) affected",
        { href: notice._url + "?status=" + status + "&accounts=" + accounts.length + "#acknowledge", class: "ack-link" });
      sec.appendChild(link);
      results.appendChild(sec);
    });
  }

  async function run(file) {
    say("Reading " + file.name + " in this browser…", false);
    let text;
    try { text = (await file.text()).replace(/^\uFEFF/, ""); } catch (e) { say("The file could not be read.", true); return; }
    const accounts = [];
    const problems = [];
    for (const [row, data] of rows(file.name, text)) {
      if (typeof data === "string") { problems.push({ row, problem: data }); continue; }
      try { accounts.push(account(data)); } catch (e) { problems.push({ row, problem: e.message }); }
    }
    let evaluated = 0;
    try {
      if (accounts.length) evaluated = await pseudonymise(accounts);
    } catch (e) {
      say("Not matched: " + e.message, true);
      return;
    }
    const ix = index();
    const matches = notices.map((notice) => ({ notice, accounts: [] }));
    for (const a of accounts) for (const [i, why] of reasons(ix, a)) matches[i].accounts.push([a.accountId, why]);
    render(matches, problems, evaluated, accounts.length);
    say("Matched " + accounts.length + " account(s) against " + notices.length + " notice(s) in force.", false);
  }

  const input = document.getElementById("accounts-file");
  input.addEventListener("change", () => { if (input.files.length) run(input.files[0]); });
  const zone = document.getElementById("drop-zone");
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    if (e.dataTransfer.files.length) run(e.dataTransfer.files[0]);
  });
  document.getElementById("forget-cache").addEventListener("click", async () => {
    await idb("readwrite", (s) => s.delete(slot));
    say("This browser's pseudonyms for your party were forgotten.", false);
  });
})();
