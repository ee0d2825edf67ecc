// The street office as a witness: its Ed25519 key is made here with WebCrypto, the private
// half not extractable and kept in this browser's IndexedDB; only the public half goes to
// the server. Before cosigning a checkpoint it checks it: the service's signature, and
// consistency with the last checkpoint this browser cosigned for that log. The cosignature
// is C2SP cosignature/v1: base64(key id || timestamp || Ed25519 signature).
(() => {
  "use strict";
  const page = document.getElementById("witness");
  const log = window.TimebankLog;
  if (!page || !log) return;
  const state = document.getElementById("witness-state");
  const unitId = page.dataset.unitId;

  function store(mode, work) {
    return new Promise((resolve, reject) => {
      const open = indexedDB.open("timebank-witness", 1);
      open.onupgradeneeded = () => open.result.createObjectStore("keys");
      open.onerror = () => reject(open.error);
      open.onsuccess = () => {
        const tx = open.result.transaction("keys", mode);
        const request = work(tx.objectStore("keys"));
        tx.oncomplete = () => resolve(request && request.result);
        tx.onerror = () => reject(tx.error);
      };
    });
  }
  const load = (name) => store("readonly", (keys) => keys.get(name));
  const save = (name, value) => store("readwrite", (keys) => keys.put(value, name));

  async function heldKey() {
    const held = await load(`unit:${unitId}`);
    return held && held.publicKey === page.dataset.publicKey ? held : null;
  }

  async function makeKey() {
    let pair;
    try {
      pair = await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]);
    } catch (error) {
      state.textContent = page.dataset.msgUnsupported;
      return;
    }
    const raw = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
    const publicKey = log.toB64(raw);
    await save(`unit:${unitId}`, { privateKey: pair.privateKey, publicKey });
    const form = document.getElementById("make-key-form");
    form.elements.public_key.value = publicKey;
    form.submit();
  }

  async function cosign(form) {
    const held = await heldKey();
    if (!held) { state.textContent = page.dataset.msgNoKey; return; }
    const note = log.parseNote(form.dataset.note);
    const deployment = await log.deploymentKey(page.dataset.keysUrl);
    const seenName = `seen:${unitId}:${note.origin}`;
    const seen = await load(seenName);
    let ok = await log.verifyNote(note, deployment.name, deployment.publicKey);
    if (ok && seen && seen.size <= note.size) {
      const before = { size: seen.size, root: log.b64(seen.root) };
      ok = await log.consistent(page.dataset.consistencyUrl, form.dataset.ledger, before, note);
    }
    if (!ok) { state.textContent = page.dataset.msgBad; return; }
    const time = Math.floor(Date.now() / 1000);
    const message = new TextEncoder().encode(`cosignature/v1\ntime ${time}\n${note.body}`);
    const signature = new Uint8Array(
      await crypto.subtle.sign({ name: "Ed25519" }, held.privateKey, message));
    const id = await log.keyId(page.dataset.name, 4, log.b64(held.publicKey));
    const stamp = new Uint8Array(8);
    new DataView(stamp.buffer).setBigUint64(0, BigInt(time));
    form.elements.signature.value = log.toB64(log.concat(id, stamp, signature));
    if (!seen || seen.size < note.size) {
      await save(seenName, { size: note.size, root: log.toB64(note.root) });
    }
    form.submit();
  }

  document.getElementById("make-key").addEventListener("click", () => makeKey());
  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-cosign-button]");
    if (button) cosign(button.form);
  });
  heldKey().then((held) => {
    state.textContent = held
      ? page.dataset.msgHolds.replace("{key}", page.dataset.keyId)
      : page.dataset.publicKey ? page.dataset.msgNoKey : "";
  });
})();
