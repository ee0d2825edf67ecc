// Small behaviours for every page, declared in the markup (no inline script: the
// Content-Security-Policy allows scripts from this site only).
//   <select data-autosubmit>        submits its form when changed
//   <form data-confirm="question">  asks before submitting
//   <input type=checkbox data-check-all="ids">  ticks every checkbox named "ids"
//   <button data-print>              prints the page
//   <body data-reload-in="seconds">  reloads the page after that many seconds
document.addEventListener("change", (event) => {
  const el = event.target;
  if (el.matches("[data-autosubmit]") && el.form) el.form.submit();
  if (el.matches("[data-check-all]")) {
    document.querySelectorAll(`input[type=checkbox][name="${el.dataset.checkAll}"]`)
      .forEach((box) => { box.checked = el.checked; });
  }
});
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) event.preventDefault();
});
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) window.print();
});
const reloadIn = document.body && document.body.dataset.reloadIn;
if (reloadIn) setTimeout(() => window.location.reload(), Math.max(1000, reloadIn * 1000 + 500));
