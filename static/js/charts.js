// Draws the report's charts with the vendored Chart.js. No inline script (the CSP allows
// scripts from this site only): the figures come from <script type="application/json"
// id="chart-data">, and each <canvas data-chart="key" data-kind="bar|line"> names its
// series. The same figures are printed in the table beneath each chart, for screen
// readers and for print.
(function () {
  const source = document.getElementById("chart-data");
  if (!source || typeof window.Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  const accent = getComputedStyle(document.documentElement).getPropertyValue("--accent").trim() || "#c0392b";
  document.querySelectorAll("canvas[data-chart]").forEach((canvas) => {
    const series = data[canvas.dataset.chart];
    if (!series || !series.values.length) return;
    const kind = canvas.dataset.kind === "line" ? "line" : "bar";
    new window.Chart(canvas, {
      type: kind,
      data: {
        labels: series.labels,
        datasets: [{
          label: canvas.getAttribute("aria-label") || "",
          data: series.values,
          backgroundColor: kind === "bar" ? accent : "rgba(192, 57, 43, 0.15)",
          borderColor: accent,
          fill: kind === "line",
          tension: 0.2,
        }],
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        indexAxis: kind === "bar" && series.labels.length > 6 ? "y" : "x",
        plugins: { legend: { display: false } },
        scales: { x: { beginAtZero: true }, y: { beginAtZero: true } },
      },
    });
    canvas.closest(".chart-box").dataset.drawn = "true";
  });
})();
