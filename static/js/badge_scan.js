// Staff scan a volunteer's badge (or any personal code) with the phone camera; the
// code fills the form's "code" field and the form is submitted.
import QrScanner from "../vendor/qr-scanner-1.4.2/qr-scanner.min.js";

const form = document.getElementById("badge-form");
const status = document.getElementById("scan-status");
const scanner = new QrScanner(document.getElementById("scan-video"), (result) => {
  scanner.stop();
  document.getElementById("code").value = result.data;
  form.submit();
}, {returnDetailedScanResult: true});
QrScanner.hasCamera()
  .then((has) => (has ? scanner.start() : Promise.reject()))
  .catch(() => { status.textContent = status.dataset.noCamera; });
