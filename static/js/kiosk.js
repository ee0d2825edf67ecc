// The kiosk screen: shows the rotating check-in code and the live counts, polling
// the state URL every 3 seconds and when the code is due to change.
(function () {
  const root = document.getElementById("kiosk");
  if (!root) return;
  const qr = document.getElementById("kiosk-qr");
  let deadline = Date.now() + Number(root.dataset.expiresIn) * 1000;
  const show = (id, text) => { document.getElementById(id).textContent = text; };
  function apply(state) {
    if (state.token !== qr.dataset.token) {
      qr.innerHTML = state.svg; qr.dataset.token = state.token; qr.dataset.url = state.url;
    }
    show("kiosk-short", state.short_code);
    show("kiosk-in", state.checked_in);
    show("kiosk-out", state.checked_out);
    deadline = Date.now() + state.expires_in * 1000;
  }
  function poll() {
    fetch(root.dataset.stateUrl, {credentials: "same-origin", cache: "no-store"})
      .then((r) => { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then((state) => { apply(state); document.getElementById("kiosk-offline").hidden = true; })
      .catch(() => { document.getElementById("kiosk-offline").hidden = false; });
  }
  setInterval(() => {
    const left = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
    show("kiosk-countdown", left);
    if (left === 0) poll();
  }, 250);
  setInterval(poll, 3000);
})();
