// The volunteer's scan page: the camera reads a kiosk code and opens its check-in page;
// without a signal the scan is kept on the phone (with the time it was made) and sent
// when the phone is back online. Settings come from data attributes on #scan.
import QrScanner from "../vendor/qr-scanner-1.4.2/qr-scanner.min.js";

const root = document.getElementById("scan");
const statusEl = document.getElementById("scan-status");
const queueEl = document.getElementById("scan-queue");
const KEY = "timebank.offline-scans";
const load = () => JSON.parse(localStorage.getItem(KEY) || "[]");
const store = (items) => localStorage.setItem(KEY, JSON.stringify(items));

function showQueue() {
  const items = load();
  queueEl.hidden = items.length === 0;
  queueEl.textContent = `${root.dataset.textWaiting} ${items.length}`;
}

async function upload() {
  const remaining = [];
  for (const item of load()) {
    try {
      const response = await fetch(root.dataset.uploadUrl, {
        method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRFToken": root.dataset.csrf},
        body: JSON.stringify(item),
      });
      if (response.status >= 500) remaining.push(item);
      else { const body = await response.json(); statusEl.textContent = body.detail || body.code; }
    } catch (error) { remaining.push(item); }
  }
  store(remaining); showQueue();
}

function tokenOf(text) {
  const at = text.lastIndexOf("/checkin/");
  return at >= 0 ? text.slice(at + 9).split("?")[0] : text;
}

function handle(result) {
  const token = tokenOf(result.data || result);
  if (!token) return;
  scanner.stop();
  if (navigator.onLine) {
    window.location.href = root.dataset.checkinUrl.replace("TOKEN", encodeURIComponent(token));
    return;
  }
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  const nonce = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  const items = load();
  items.push({token, nonce, scanned_at: new Date().toISOString()});
  store(items);
  statusEl.textContent = root.dataset.textSaved; showQueue();
  setTimeout(() => scanner.start(), 3000);
}

const scanner = new QrScanner(document.getElementById("scan-video"), handle,
  {returnDetailedScanResult: true});
QrScanner.hasCamera()
  .then((has) => (has ? scanner.start() : Promise.reject()))
  .catch(() => { statusEl.textContent = root.dataset.textNoCamera; });
window.addEventListener("online", upload);
showQueue();
if (navigator.onLine) upload();
