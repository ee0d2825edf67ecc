// The member's redeem code: reloads when the code rotates, and when a shop places or
// decides a redemption (the state URL answers with a short fingerprint every 2 s).
(function () {
  const root = document.getElementById("redeem");
  if (!root) return;
  const deadline = Date.now() + Number(root.dataset.expiresIn) * 1000;
  setTimeout(() => window.location.reload(), Math.max(1000, deadline - Date.now() + 300));
  setInterval(() => {
    fetch(root.dataset.stateUrl, {credentials: "same-origin", cache: "no-store"})
      .then((r) => (r.ok ? r.json() : Promise.reject(r.status)))
      .then((body) => { if (body.state !== root.dataset.state) window.location.reload(); })
      .catch(() => {});
  }, 2000);
})();
