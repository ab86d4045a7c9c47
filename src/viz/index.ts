/** Plotly figure builders (plain specs) and notebook display helpers. */
export { barChart, baseLayout, lineChart, scatterChart, PALETTE } from './figure';
export type { ChartOptions, Figure, Series, Trace } from './figure';
export { heatmapGrid } from './heatmap-grid';
export { sliderFigure } from './slider';
export { histograms } from './histogram';
export type { Histograms } from './histogram';
export type { SliderFrame, SliderOptions } from './slider';
export type { HeatmapGridOptions, Panel } from './heatmap-grid';
export { NotebookDisplay, figureHtml, readPlotlyBundle, tableHtml } from './display';
export type { HtmlSink, HtmlTable, TableOptions } from './display';
export { cifarRgb } from './cifar-image';
export type { ImageSource } from './cifar-image';
export { notebookEnv, SHARED_CIFAR } from './notebook-env';
export type { NotebookEnv } from './notebook-env';
