// Public API of the report module.
export type {
  Report,
  ReportEquityRow,
  ReportFill,
  ReportMetrics,
  ReportOpenPosition,
  ReportOrder,
  ReportRiskEvent,
  ReportTrade,
  ReportAttribution,
  ReportBenchmark,
  ReportRolling,
} from './report-types.ts';
export {
  buildReport,
  standardConventions,
  toReportBenchmark,
  toReportEquity,
  toReportRolling,
  ROLLING_WINDOW,
  toReportFill,
  toReportMetrics,
  toReportOpenPosition,
  toReportOrder,
  toReportRiskEvent,
  toReportTrade,
  type BenchmarkInput,
  type FillLike,
  type OpenPositionInput,
  type OrderLike,
  type ReportInput,
} from './build.ts';
export { renderReportHtml, renderReportHtmlChunks } from './html.ts';
export { jsonChunks, jsonForScriptChunks } from './json-stream.ts';
export {
  barsFigure,
  candlesFigure,
  curvesFigure,
  drawdownFigure,
  equityFigure,
  exposureFigure,
  figureHtml,
  heatmapFigure,
  plotlyBundle,
  monthlyFigure,
  reportFigures,
  rollingFigure,
  tradesFigure,
  type Figure,
  type PlotlySpec,
} from './figures.ts';
export {
  commitStaged,
  describeOutputFailure,
  discardStaged,
  OutputError,
  removeStaleStaged,
  reportJson,
  reportJsonChunks,
  stageFile,
  stageReport,
  writeReport,
  writeRunOutputs,
  type OutputFailureOptions,
  type StagedFile,
} from './write.ts';
export { escapeHtml, jsonForScript } from './format.ts';
export { isoDate, isoTime } from '../core/dates.ts';
