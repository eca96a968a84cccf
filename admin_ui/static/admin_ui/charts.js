/*
 * StockDesk's interactive admin charts, drawn with the vendored TradingView
 * lightweight-charts (vendor/lightweight-charts/). Each chart is a
 * [data-stockdesk-chart] block (templates/admin_ui/charts/chart.html) whose data is
 * a json_script element (admin_ui/chart_data.py describes its shape).
 *
 * Zoom with the mouse wheel, pan by dragging (the library's own handling); "Reset
 * zoom" returns to the first view. The block's data-visible-range attribute holds
 * the visible logical range ("from:to") and data-legend-time the day under the
 * crosshair, so tests and people can tell what is shown.
 *
 * No inline script: the admin's Content-Security-Policy is script-src 'self'.
 */
(function () {
  "use strict";

  const LIGHT = { background: "#ffffff", text: "#374151", grid: "#f3f4f6", border: "#e5e7eb" };
  const DARK = { background: "#111827", text: "#d1d5db", grid: "#1f2937", border: "#374151" };
  const UP = "#16a34a";
  const DOWN = "#dc2626";

  function isDark() {
    return document.documentElement.classList.contains("dark");
  }

  function themeOptions() {
    const theme = isDark() ? DARK : LIGHT;
    return {
      layout: {
        background: { type: LightweightCharts.ColorType.Solid, color: theme.background },
        textColor: theme.text,
        // TradingView's logo link: the attribution the library's licence asks for.
        attributionLogo: true,
      },
      grid: { vertLines: { color: theme.grid }, horzLines: { color: theme.grid } },
      rightPriceScale: { borderColor: theme.border },
      timeScale: { borderColor: theme.border },
    };
  }

  // The library hands times back in the shape they were given ("YYYY-MM-DD") or as
  // a business-day object or a UTC timestamp; the legend wants the ISO day.
  function isoDay(time) {
    if (typeof time === "string") return time;
    if (typeof time === "number") return new Date(time * 1000).toISOString().slice(0, 10);
    if (time && typeof time === "object") {
      const pad = (n) => String(n).padStart(2, "0");
      return `${time.year}-${pad(time.month)}-${pad(time.day)}`;
    }
    return "";
  }

  function formatter(currency) {
    let money;
    try {
      money = new Intl.NumberFormat(undefined, {
        style: "currency",
        currency: currency || "USD",
        maximumFractionDigits: 2,
      });
    } catch (error) {
      money = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });
    }
    const plain = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });
    const compact = new Intl.NumberFormat(undefined, { notation: "compact", maximumFractionDigits: 1 });
    return {
      money: (value) => money.format(value),
      plain: (value) => plain.format(value),
      volume: (value) => compact.format(value),
    };
  }

  function byTime(points, pick) {
    const values = new Map();
    for (const point of points) values.set(point.time, pick(point));
    return values;
  }

  function draw(block) {
    const source = document.getElementById(block.dataset.stockdeskChart);
    const canvas = block.querySelector("[data-chart-canvas]");
    const legend = block.querySelector("[data-chart-legend]");
    if (!source || !canvas) return;
    if (typeof LightweightCharts === "undefined") {
      legend.textContent = "The chart library did not load.";
      return;
    }
    const data = JSON.parse(source.textContent);
    const format = formatter(data.currency);
    const chart = LightweightCharts.createChart(canvas, {
      autoSize: true,
      crosshair: { mode: LightweightCharts.CrosshairMode.Normal },
      localization: { priceFormatter: format.plain },
      timeScale: { rightOffset: 3 },
      ...themeOptions(),
    });
    chart.applyOptions(themeOptions());

    // What the legend lists: [label, colour, Map(time -> text)].
    const rows = [];
    const seriesById = {};
    let times = [];

    if (data.candles.length) {
      const candles = chart.addSeries(LightweightCharts.CandlestickSeries, {
        upColor: UP,
        downColor: DOWN,
        borderVisible: false,
        wickUpColor: UP,
        wickDownColor: DOWN,
      });
      candles.setData(data.candles);
      candles.priceScale().applyOptions({ scaleMargins: { top: 0.08, bottom: 0.28 } });
      seriesById.candles = candles;
      times = data.candles.map((bar) => bar.time);
      rows.push([
        "",
        null,
        byTime(data.candles, (bar) =>
          `O ${format.plain(bar.open)} H ${format.plain(bar.high)} ` +
          `L ${format.plain(bar.low)} C ${format.plain(bar.close)}`),
      ]);
    }
    if (data.volume.length) {
      // Its own scale in the bottom fifth, under the candles.
      const volume = chart.addSeries(LightweightCharts.HistogramSeries, {
        priceScaleId: "volume",
        priceFormat: { type: "volume" },
        lastValueVisible: false,
        priceLineVisible: false,
      });
      volume.setData(
        data.volume.map((bar) => ({
          time: bar.time,
          value: bar.value,
          color: bar.up ? "rgba(22, 163, 74, 0.35)" : "rgba(220, 38, 38, 0.35)",
        }))
      );
      chart.priceScale("volume").applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
      rows.push(["Vol", "#9ca3af", byTime(data.volume, (bar) => format.volume(bar.value))]);
    }
    const isMoney = data.kind !== "price";
    for (const line of data.lines) {
      const series = chart.addSeries(LightweightCharts.LineSeries, {
        color: line.color,
        lineWidth: line.width,
        lineStyle: line.dashed ? LightweightCharts.LineStyle.Dashed : LightweightCharts.LineStyle.Solid,
        priceLineVisible: false,
        lastValueVisible: !data.band || line.id !== data.band.lower,
        crosshairMarkerVisible: true,
        title: "",
      });
      series.setData(line.points);
      seriesById[line.id] = series;
      if (!times.length || line.points.length > times.length) times = line.points.map((p) => p.time);
      rows.push([
        line.name,
        line.color,
        byTime(line.points, (point) => (isMoney ? format.money(point.value) : format.plain(point.value))),
      ]);
    }

    // Markers go on the series they belong to, oldest first, on days it has.
    const tradeText = new Map();
    const markersBySeries = {};
    for (const marker of data.markers) {
      const series = seriesById[marker.series];
      if (!series) continue;
      (markersBySeries[marker.series] ||= []).push({
        time: marker.time,
        position: marker.position,
        shape: marker.shape,
        color: marker.color,
        text: marker.text,
      });
      tradeText.set(marker.time, [tradeText.get(marker.time), marker.text].filter(Boolean).join("; "));
    }
    for (const [id, markers] of Object.entries(markersBySeries)) {
      const known = new Set(
        id === "candles" ? data.candles.map((bar) => bar.time)
          : data.lines.find((line) => line.id === id).points.map((p) => p.time)
      );
      LightweightCharts.createSeriesMarkers(
        seriesById[id],
        markers.filter((marker) => known.has(marker.time)).sort((a, b) => (a.time < b.time ? -1 : 1))
      );
    }

    function showLegend(day) {
      legend.replaceChildren();
      if (!day) return;
      block.dataset.legendTime = day;
      const date = document.createElement("strong");
      date.textContent = day;
      legend.append(date);
      for (const [label, colour, values] of rows) {
        if (!values.has(day)) continue;
        const item = document.createElement("span");
        item.className = "ml-3 whitespace-nowrap";
        if (colour) {
          const swatch = document.createElement("span");
          swatch.className = "inline-block w-3 h-1 align-middle mr-1";
          swatch.style.background = colour;
          item.append(swatch);
        }
        item.append(`${label ? label + " " : ""}${values.get(day)}`);
        legend.append(item);
      }
      if (tradeText.has(day)) {
        const trade = document.createElement("span");
        trade.className = "ml-3 whitespace-nowrap font-semibold";
        trade.textContent = `Trade: ${tradeText.get(day)}`;
        legend.append(trade);
      }
    }
    const lastDay = times.length ? times[times.length - 1] : "";
    showLegend(lastDay);
    chart.subscribeCrosshairMove((param) => {
      showLegend(param && param.time !== undefined ? isoDay(param.time) : lastDay);
    });

    const timeScale = chart.timeScale();
    timeScale.subscribeVisibleLogicalRangeChange((range) => {
      if (range) block.dataset.visibleRange = `${range.from.toFixed(2)}:${range.to.toFixed(2)}`;
    });

    function firstView() {
      const bars = times.length;
      if (data.initial_bars && bars > data.initial_bars) {
        timeScale.setVisibleLogicalRange({ from: bars - data.initial_bars, to: bars - 1 + 3 });
      } else {
        timeScale.fitContent();
      }
    }
    const reset = block.querySelector("[data-chart-reset]");
    if (reset) reset.addEventListener("click", firstView);
    const fit = block.querySelector("[data-chart-fit]");
    if (fit) fit.addEventListener("click", () => timeScale.fitContent());

    // A chart in a hidden tab has no width yet: set its first view once it has one.
    let viewSet = false;
    const sized = new ResizeObserver(() => {
      if (!viewSet && canvas.clientWidth > 0) {
        viewSet = true;
        requestAnimationFrame(() => {
          firstView();
          // Ready once the library has drawn that view (it paints on the next frame).
          requestAnimationFrame(() => requestAnimationFrame(() => {
            block.dataset.chartReady = "true";
          }));
        });
      }
    });
    sized.observe(canvas);

    // Follow the admin's light/dark switch.
    new MutationObserver(() => chart.applyOptions(themeOptions())).observe(
      document.documentElement, { attributes: true, attributeFilter: ["class"] }
    );
  }

  function drawAll() {
    document.querySelectorAll("[data-stockdesk-chart]").forEach((block) => {
      if (block.dataset.chartDrawn) return;
      block.dataset.chartDrawn = "true";
      draw(block);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
