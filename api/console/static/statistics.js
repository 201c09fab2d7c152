// The statistics page's chart: figures from the page's JSON block, drawn with ECharts.
(function () {
  "use strict";
  function draw() {
    var box = document.getElementById("daily-chart");
    var data = document.getElementById("daily-figures");
    if (!box || !data || !window.echarts) { return; }
    var figures = JSON.parse(data.textContent);
    var heads = document.querySelectorAll("#daily thead th");
    var names = { sent: heads[1].textContent, success: heads[2].textContent,
                  failed: heads[3].textContent, unknown: heads[4].textContent };
    var series = Object.keys(names).map(function (key) {
      return { name: names[key], type: key === "sent" ? "line" : "bar",
               data: figures.series[key] || [] };
    });
    var chart = window.echarts.init(box, null, { renderer: "svg" });
    chart.setOption({
      tooltip: { trigger: "axis" },
      legend: { data: series.map(function (s) { return s.name; }) },
      xAxis: { type: "category", data: figures.days || [] },
      yAxis: { type: "value", minInterval: 1 },
      series: series,
      aria: { enabled: false }
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else { draw(); }
})();
