// Chinese dates in the charts (month and day names, date orders) when the page is in Chinese: plotly.js speaks
// English unless it is given a locale. Works loaded before plotly.js (it picks window.PlotlyLocales up) or after
// it, when it also draws again the charts that static/js/charts.js drew already, with the locale.
(function () {
  if (!/^zh/i.test(document.documentElement.lang || "")) { return; }
  var months = ["1月", "2月", "3月", "4月", "5月", "6月", "7月", "8月", "9月", "10月", "11月", "12月"];
  var locale = {
    moduleType: "locale",
    name: "zh-CN",
    dictionary: {},
    format: {
      days: ["星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六"],
      shortDays: ["周日", "周一", "周二", "周三", "周四", "周五", "周六"],
      months: months,
      shortMonths: months,
      periods: ["上午", "下午"],
      dateTime: "%Y年%-m月%-d日 %X",
      date: "%Y-%m-%d",
      time: "%H:%M:%S",
      decimal: ".",
      thousands: ",",
      grouping: [3],
      currency: ["¥", ""],
      year: "%Y年",
      month: "%Y年%-m月",
      dayMonth: "%-m月%-d日",
      dayMonthYear: "%Y年%-m月%-d日"
    }
  };
  if (!window.Plotly) {
    window.PlotlyLocales = (window.PlotlyLocales || []).concat([locale]);
    return;
  }
  window.Plotly.register(locale);
  window.Plotly.setPlotConfig({ locale: "zh-CN" });
  document.querySelectorAll(".chart[data-figure]").forEach(function (el) {
    if (el.data) { window.Plotly.react(el, el.data, el.layout, { locale: "zh-CN" }); }
  });
})();
