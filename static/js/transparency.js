// The transparency log, checked in this browser: it trusts no answer of the server that
// it can check itself. Ed25519 signatures and SHA-256 come from the browser's own
// WebCrypto (crypto.subtle); the Merkle proofs are checked with RFC 9162's algorithms
// (2.1.3.2 inclusion, 2.1.4.2 consistency), as timebank/transparency/merkle.py does.
//
// On /verify/<serial> (#seal-checker) it checks a certificate's seal: the checkpoint's and
// the certificate's signatures and each counted entry's inclusion proof.
//
// window.TimebankLog holds the checks (the witness page uses them too). On a notice page
// (#log-checker) each [data-log-check] ledger is checked: the newest checkpoint's
// signature, its consistency with the checkpoint before, with the one printed on the
// notice (the QR code pins it), and with the log the server holds now; any street office's
// cosignature. The result is said in the page's language (data-texts).
(() => {
  "use strict";
  const enc = new TextEncoder();
  const b64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  const b64url = (text) =>
    b64(text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4));
  const toB64 = (bytes) => btoa(String.fromCharCode(...bytes));
  const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  const fromHex = (text) => Uint8Array.from(text.match(/../g) || [], (x) => parseInt(x, 16));
  const equal = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
  const concat = (...parts) => {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const part of parts) { out.set(part, at); at += part.length; }
    return out;
  };
  const sha256 = async (bytes) => new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const nodeHash = (left, right) => sha256(concat(Uint8Array.of(1), left, right));
  const leafHash = (data) => sha256(concat(Uint8Array.of(0), data));

  class Mismatch extends Error {}

  // A C2SP signed note: its body (with the final newline), fields and signature lines.
  function parseNote(note) {
    const cut = note.indexOf("\n\n");
    if (cut < 0) throw new Mismatch("not a signed note");
    const body = note.slice(0, cut + 1);
    const lines = body.split("\n");
    const signatures = note.slice(cut + 2).split("\n").filter(Boolean).map((line) => {
      const rest = line.slice(2); // after the em dash and the space
      const at = rest.lastIndexOf(" ");
      return { name: rest.slice(0, at), value: b64(rest.slice(at + 1)) };
    });
    return { body, origin: lines[0], size: Number(lines[1]), root: b64(lines[2]), signatures };
  }

  async function keyId(name, type, publicKey) {
    return (await sha256(concat(enc.encode(name + "\n"), Uint8Array.of(type), publicKey))).slice(0, 4);
  }

  async function ed25519Verify(publicKey, message, signature) {
    const key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
    return crypto.subtle.verify({ name: "Ed25519" }, key, signature, message);
  }

  // The note carries a valid signature of the named key over its body.
  async function verifyNote(note, name, publicKey) {
    const id = await keyId(name, 1, publicKey);
    for (const sig of note.signatures) {
      if (sig.name === name && sig.value.length === 68 && equal(sig.value.slice(0, 4), id)) {
        if (await ed25519Verify(publicKey, enc.encode(note.body), sig.value.slice(4))) return true;
      }
    }
    return false;
  }

  // A street office's cosignature/v1 line in the note, checked with its key.
  async function verifyCosignature(note, name, publicKey) {
    const id = await keyId(name, 4, publicKey);
    for (const sig of note.signatures) {
      if (sig.name !== name || sig.value.length !== 76 || !equal(sig.value.slice(0, 4), id)) continue;
      let time = 0n;
      for (const byte of sig.value.slice(4, 12)) time = (time << 8n) | BigInt(byte);
      const message = enc.encode(`cosignature/v1\ntime ${time}\n${note.body}`);
      if (await ed25519Verify(publicKey, message, sig.value.slice(12))) return true;
    }
    return false;
  }

  // RFC 9162 2.1.3.2
  async function verifyInclusion(index, size, leaf, path, root) {
    if (index >= size) return false;
    let fn = index, sn = size - 1, r = leaf;
    for (const p of path) {
      if (sn === 0) return false;
      if (fn % 2 === 1 || fn === sn) {
        r = await nodeHash(p, r);
        while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
      } else {
        r = await nodeHash(r, p);
      }
      fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
    }
    return sn === 0 && equal(r, root);
  }

  // RFC 9162 2.1.4.2
  async function verifyConsistency(first, second, firstRoot, secondRoot, proof) {
    if (first > second) return false;
    if (first === second) return proof.length === 0 && equal(firstRoot, secondRoot);
    if (first === 0) return proof.length === 0;
    if (proof.length === 0) return false;
    const path = (first & (first - 1)) === 0 ? [firstRoot, ...proof] : [...proof];
    let fn = first - 1, sn = second - 1;
    while (fn % 2 === 1) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
    let fr = path[0], sr = path[0];
    for (const c of path.slice(1)) {
      if (sn === 0) return false;
      if (fn % 2 === 1 || fn === sn) {
        fr = await nodeHash(c, fr);
        sr = await nodeHash(c, sr);
        while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
      } else {
        sr = await nodeHash(sr, c);
      }
      fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
    }
    return sn === 0 && equal(fr, firstRoot) && equal(sr, secondRoot);
  }

  async function getJSON(url) {
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.detail || String(response.status));
    return body;
  }

  // The server's consistency proof between two sizes of a ledger's log, checked here.
  async function consistent(url, ledger, older, newer) {
    if (older.size > newer.size) return false;
    const proof = await getJSON(`${url}?ledger=${ledger}&from=${older.size}&to=${newer.size}`);
    return verifyConsistency(older.size, newer.size, older.root, newer.root, proof.proof.map(b64));
  }

  async function deploymentKey(url) {
    const doc = await getJSON(url);
    return { name: doc.name, publicKey: b64(doc.public_key), id: doc.key_id };
  }

  window.TimebankLog = {
    b64, b64url, toB64, hex, fromHex, concat, sha256, leafHash, keyId, parseNote, verifyNote,
    verifyCosignature, verifyInclusion, verifyConsistency, getJSON, consistent, deploymentKey,
    Mismatch, checkSeal,
  };

  // ---------------------------------------------------------------- a certificate's seal
  // On /verify/<serial> (#seal-checker): the certificate's signature with the published
  // key, that the entries proven are the ones its signed content names (entries_sha256),
  // the checkpoint's signature, and each entry's inclusion proof against its root.
  async function checkSeal(data, key, say) {
    const seal = data.seal;
    const steps = [];
    const note = parseNote(seal.checkpoint);
    if (!(await verifyNote(note, key.name, key.publicKey)) || note.size !== seal.tree_size) {
      throw new Mismatch("checkpoint");
    }
    steps.push(say("checkpoint", { size: note.size, key: key.id }));
    const signed = await ed25519Verify(key.publicKey, enc.encode(data.signed_content), b64(data.signature));
    if (!signed) throw new Mismatch("certificate");
    const content = JSON.parse(data.signed_content);
    const ids = seal.proofs.map((proof) => proof.entry_id).sort((a, b) => a - b);
    if (hex(await sha256(enc.encode(ids.join(",")))) !== content.entries_sha256) {
      throw new Mismatch("entries");
    }
    steps.push(say("certificate", { count: ids.length }));
    for (const proof of seal.proofs) {
      const leaf = await leafHash(fromHex(proof.entry_hash));
      const path = proof.path.map(b64);
      if (!(await verifyInclusion(proof.leaf_index, note.size, leaf, path, note.root))) {
        throw new Mismatch("proof");
      }
    }
    steps.push(say("proofs", { count: ids.length, size: note.size }));
    return { steps, size: note.size, count: ids.length };
  }

  async function runSeal(holder) {
    const texts = JSON.parse(holder.dataset.texts);
    const say = (name, values = {}) => texts[name].replace(/\{(\w+)\}/g, (_, k) => values[k] ?? "");
    const el = document.querySelector("[data-seal-check]");
    const list = el.nextElementSibling;
    const finish = (text, result, steps = []) => {
      el.textContent = text;
      el.className = `log-check flash ${result === "ok" ? "success" : result === "mismatch" ? "error" : ""}`;
      el.dataset.result = result;
      list.replaceChildren(...steps.map((step) => {
        const item = document.createElement("li");
        item.textContent = step;
        return item;
      }));
    };
    if (!window.crypto || !crypto.subtle) { finish(say("unsupported"), "failed"); return; }
    try {
      const data = JSON.parse(document.getElementById("seal-data").textContent);
      const key = await deploymentKey(holder.dataset.keysUrl);
      const found = await checkSeal(data, key, say);
      finish(say("ok", { size: found.size, count: found.count }), "ok", found.steps);
    } catch (error) {
      if (error instanceof Mismatch) finish(say("mismatch"), "mismatch");
      else if (error && error.name === "NotSupportedError") finish(say("unsupported"), "failed");
      else finish(say("failed", { error: error.message }), "failed");
    }
  }

  const sealHolder = document.getElementById("seal-checker");
  if (sealHolder) runSeal(sealHolder);

  // ---------------------------------------------------------------- the notice pages
  const settings = document.getElementById("log-checker");
  if (!settings) return;
  const texts = JSON.parse(settings.dataset.texts);
  const say = (name, values = {}) => texts[name].replace(/\{(\w+)\}/g, (_, key) => values[key] ?? "");
  const urls = settings.dataset;

  async function checkLedger(el, key) {
    const ledger = el.dataset.ledger;
    const steps = [];
    const list = await getJSON(`${urls.checkpointsUrl}?ledger=${ledger}&limit=2`);
    const latest = parseNote(list[0].note);
    if (urls.pinnedKey && urls.pinnedKey !== key.id) throw new Mismatch("key");
    if (!(await verifyNote(latest, key.name, key.publicKey))) throw new Mismatch("signature");
    steps.push(say("signed", { key: key.id }));
    if (list.length > 1) {
      const before = parseNote(list[1].note);
      if (!(await verifyNote(before, key.name, key.publicKey))) throw new Mismatch("signature");
      if (!(await consistent(urls.consistencyUrl, ledger, before, latest))) throw new Mismatch("before");
      steps.push(say("consistent", { size: before.size }));
    } else {
      steps.push(say("first"));
    }
    if (el.dataset.pinnedSize) {
      const pinned = { size: Number(el.dataset.pinnedSize), root: b64url(el.dataset.pinnedRoot) };
      if (!(await consistent(urls.consistencyUrl, ledger, pinned, latest))) throw new Mismatch("printed");
      steps.push(say("pinned", { size: pinned.size }));
    }
    const remembered = JSON.parse(localStorage.getItem(`timebank-log:${latest.origin}`) || "null");
    if (remembered && remembered.size <= latest.size) {
      const seen = { size: remembered.size, root: b64(remembered.root) };
      if (!(await consistent(urls.consistencyUrl, ledger, seen, latest))) throw new Mismatch("seen");
    }
    const head = await getJSON(`${urls.headUrl}?ledger=${ledger}`);
    const now = { size: head.tree_size, root: b64(head.root_hash) };
    if (!(await consistent(urls.consistencyUrl, ledger, latest, now))) throw new Mismatch("now");
    steps.push(say("current", { size: now.size }));
    for (const cosigner of list[0].cosigners) {
      if (!(await verifyCosignature(latest, cosigner.name, b64(cosigner.public_key)))) {
        throw new Mismatch("cosignature");
      }
      steps.push(say("cosigned", { name: cosigner.unit_name }));
    }
    localStorage.setItem(`timebank-log:${latest.origin}`,
      JSON.stringify({ size: latest.size, root: toB64(latest.root) }));
    return steps;
  }

  function show(el, text, ok, steps) {
    el.textContent = text;
    el.classList.toggle("flash", true);
    el.classList.toggle("success", ok === true);
    el.classList.toggle("error", ok === false);
    el.dataset.result = ok === true ? "ok" : ok === false ? "mismatch" : "failed";
    const list = el.nextElementSibling;
    if (list && list.matches(".check-steps")) {
      list.replaceChildren(...steps.map((step) => {
        const item = document.createElement("li");
        item.textContent = step;
        return item;
      }));
    }
  }

  async function run() {
    const checks = document.querySelectorAll("[data-log-check]");
    if (!window.crypto || !crypto.subtle) {
      checks.forEach((el) => show(el, say("unsupported"), null, []));
      return;
    }
    let key;
    try {
      key = await deploymentKey(urls.keysUrl);
    } catch (error) {
      checks.forEach((el) => show(el, say("failed", { error: error.message }), null, []));
      return;
    }
    for (const el of checks) {
      try {
        const steps = await checkLedger(el, key);
        show(el, say("ok"), true, steps);
      } catch (error) {
        if (error instanceof Mismatch) show(el, say("mismatch"), false, []);
        else if (error && error.name === "NotSupportedError") show(el, say("unsupported"), null, []);
        else show(el, say("failed", { error: error.message }), null, []);
      }
    }
  }

  async function checkEntry(form) {
    const result = document.querySelector("[data-entry-result]");
    const entry = form.elements.entry.value.trim();
    try {
      const key = await deploymentKey(urls.keysUrl);
      const answer = await getJSON(`${urls.inclusionUrl}?entry=${encodeURIComponent(entry)}`);
      const note = parseNote(answer.checkpoint);
      const proof = answer.proofs[0];
      const leaf = await leafHash(fromHex(proof.entry_hash));
      const ok = (await verifyNote(note, key.name, key.publicKey)) &&
        (await verifyInclusion(proof.leaf_index, note.size, leaf, proof.path.map(b64), note.root));
      result.textContent = ok ? say("entry_ok", { entry, size: note.size }) : say("entry_bad", { entry });
      result.className = ok ? "flash success" : "flash error";
    } catch (error) {
      result.textContent = say("failed", { error: error.message });
      result.className = "flash error";
    }
  }

  document.addEventListener("submit", (event) => {
    if (!event.target.matches("[data-entry-check]")) return;
    event.preventDefault();
    checkEntry(event.target);
  });
  run();
})();
