// The staff counter: the camera reads the customer's redeem code into the code field;
// staff then tap the offer (a submit button of the same form). Without a camera, staff
// type the digits shown under the customer's QR code.
import QrScanner from "../vendor/qr-scanner-1.4.2/qr-scanner.min.js";

const status = document.getElementById("scan-status");
const code = document.getElementById("code");
const scanner = new QrScanner(document.getElementById("scan-video"), (result) => {
  scanner.stop();
  code.value = result.data;
  status.textContent = status.dataset.read;
  const first = document.querySelector(".offer-buttons button:not([disabled])");
  if (first) first.focus();
}, {returnDetailedScanResult: true});
QrScanner.hasCamera()
  .then((has) => (has ? scanner.start() : Promise.reject()))
  .catch(() => { status.textContent = status.dataset.noCamera; });
