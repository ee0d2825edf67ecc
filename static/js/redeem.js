// The member's redeem code: reloads when the code rotates, and when a shop places or
// decides a redemption (the state URL answers with a short fingerprint every 2 s); the
// redemptions it waited on are named in ?done=, so the page says how they ended.
(function () {
  const root = document.getElementById("redeem");
  if (!root) return;
  // what this phone waits on: after the shop decides, the page shows how it ended. A new
  // code reloads the page too, and keeps naming what it waited on: a shop may decide in
  // the moment between the last look at the state and the reload.
  function reloadNaming(rotating) {
    const waited = Array.from(document.querySelectorAll(".pending-card[data-redemption-id]"))
      .map((card) => card.dataset.redemptionId);
    const url = new URL(window.location.href);
    if (waited.length) url.searchParams.set("done", waited.join(","));
    else if (!rotating) url.searchParams.delete("done");
    window.location.replace(url.toString());
  }
  const deadline = Date.now() + Number(root.dataset.expiresIn) * 1000;
  setTimeout(() => reloadNaming(true), Math.max(1000, deadline - Date.now() + 300));
  setInterval(() => {
    fetch(root.dataset.stateUrl, {credentials: "same-origin", cache: "no-store"})
      .then((r) => (r.ok ? r.json() : Promise.reject(r.status)))
      .then((body) => { if (body.state !== root.dataset.state) reloadNaming(false); })
      .catch(() => {});
  }, 2000);
})();
