/**
 * meshperf as a library: `import { runMesh, loadInventory } from 'meshperf'`.
 * The CLI (lib/cli) is a thin shell over exactly these functions.
 */
export { loadInventory, parseInventory, normalizeInventory, parseSize } from './inventory/load.js';
export { ERROR_CODES, HostError, InventoryError, LabError, MeshperfError, UsageError } from './shared/errors.js';
export type { ErrorCode, ErrorCodeInfo, ErrorInfo } from './shared/errors.js';
export type { Inventory, HostConfig, Schedule, SshDefaults, TestParams } from './inventory/types.js';
export { OPTIONS, OPTION_LIST, checkValue, optionConflicts, readValue } from './shared/options.js';
export type { OptionKey, OptionSpec, IperfOptions, Tuning } from './shared/options.js';
export { runMesh, newRunId, planCampaign } from './mesh/run.js';
export { campaignSteps, parseSweep, MAX_STEPS } from './mesh/campaign.js';
export { stepWords } from './results/campaign.js';
export type { Step, CampaignSpec } from './mesh/campaign.js';
export { BUILTIN_PROFILES } from './inventory/profiles.js';
export { dryRun } from './mesh/dry-run.js';
export { checkCluster } from './mesh/check.js';
export type { CheckOptions, CheckReport, HostCheck } from './mesh/check.js';
export type { DryRun } from './mesh/dry-run.js';
export { defaultThresholds, readThreshold, readThresholds, THRESHOLDS, THRESHOLD_KEYS } from './results/verdict/thresholds.js';
export type { Thresholds, ThresholdKey } from './results/verdict/thresholds.js';
export type { RunOptions } from './mesh/run.js';
export type { MeshEvent, MeshEventListener } from './mesh/events.js';
export { logEntry, LOG_FILE } from './mesh/log.js';
export { STDERR_LINES_KEPT } from './mesh/stderr-limit.js';
export type { LogEntry } from './mesh/log.js';
export { writeResults, resultFiles, toCsv, CSV_COLUMNS } from './results/write.js';
export { recoverResults, PARTIAL_DIR } from './results/journal.js';
export type { WrittenFiles } from './results/write.js';
export { RESULTS_FORMAT } from './results/types.js';
export type * from './results/types.js';
export type { Transport, DaemonChannel, OpenRequest } from './transport/types.js';
export { needsPassphrase, sshTransport } from './transport/ssh.js';
export { localTransport } from './transport/local.js';
export { PROTOCOL_VERSION } from './protocol/messages.js';
export { formatMatrix, formatBps, formatMetric, metricValue, METRICS } from './report/matrix.js';
export type { Metric } from './report/matrix.js';
export { renderReport, writeReportHtml, REPORT_FORMATS, REPORT_HTML } from './report/render.js';
export type { ReportFormat, ReportOptions } from './report/render.js';
export type { PairFilter, PairRow } from './report/pairs.js';
export { unmatchedFilters } from './report/pairs.js';
export { readResultsFile } from './results/read.js';
export { compareResults, comparisonText, comparisonMarkdown, comparisonHtml } from './report/compare.js';
export type { Comparison, MetricChange } from './report/compare.js';
