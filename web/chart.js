// Charts: echarts, loaded from /vendor on first use, mounted on an element
// for the life of a page: redrawn when the language changes, resized with
// the element, disposed when the page goes (or earlier, by el.dispose()).

import { showError } from './banner.js';

/** Loads echarts; rejects when it is missing. */
export function loadEcharts() {
  return import('/vendor/echarts.esm.min.js');
}

/** Draws option() into el and keeps it drawn. charts: a loadEcharts() begun
 *  earlier (alongside the data). Resolves to the chart, or to null when the
 *  library is missing (said in the banner) or the page has gone. */
export async function mountChart(ctx, el, option, charts = loadEcharts()) {
  let echarts;
  try {
    echarts = await charts;
  } catch (err) {
    showError({ status: 0, code: 'chart_library_missing', message: String(err) });
    return null;
  }
  if (ctx.signal.aborted || !el.isConnected) return null;
  const chart = echarts.init(el);
  const draw = () => { if (!chart.isDisposed()) chart.setOption(option(), { notMerge: true }); };
  draw();
  const resize = new ResizeObserver(() => { if (!chart.isDisposed()) chart.resize(); });
  resize.observe(el);
  const dispose = () => {
    resize.disconnect();
    if (!chart.isDisposed()) chart.dispose();
  };
  ctx.onLang(draw);
  ctx.onCleanup(dispose);
  el.dispose = dispose;
  return chart;
}
