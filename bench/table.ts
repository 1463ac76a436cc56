import type { MemoryResult } from './memory';
import type { PairResult, SideStats } from './measure';
import type { Scenario } from './scenarios';

/** A measured pair with its ratios and verdicts, as written to results.json. */
export interface ScenarioReport {
  readonly id: string;
  readonly title: string;
  readonly subject: SideStats;
  readonly baseline: SideStats;
  /**
   * Subject requests per second over the baseline's, the median of the round-by-round ratios:
   * a burst of other work on the machine spoils a round or two, not the result. Higher is better.
   */
  readonly throughputRatio: number;
  readonly roundRatios: readonly number[];
  /** Subject p99 over the baseline's: lower is better. */
  readonly p99Ratio: number;
  readonly targets?: { readonly minThroughputRatio: number; readonly maxP99Ratio: number };
  readonly pass?: { readonly throughput: boolean; readonly p99: boolean };
}

export interface MemoryReport extends MemoryResult {
  readonly targetBytes: number;
  readonly pass: boolean;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length / 2;
  return Number.isInteger(middle) ? (sorted[middle - 1] + sorted[middle]) / 2 : sorted[Math.floor(middle)];
}

export function scenarioReport(scenario: Scenario, pair: PairResult): ScenarioReport {
  const throughputRatio = median(pair.roundRatios);
  const p99Ratio = pair.subject.p99Ms / pair.baseline.p99Ms;
  const { minThroughputRatio, maxP99Ratio } = scenario;
  const hasTargets = minThroughputRatio !== undefined && maxP99Ratio !== undefined;
  return {
    id: scenario.id,
    title: scenario.title,
    subject: pair.subject,
    baseline: pair.baseline,
    throughputRatio,
    roundRatios: pair.roundRatios,
    p99Ratio,
    ...(hasTargets && {
      targets: { minThroughputRatio, maxP99Ratio },
      pass: { throughput: throughputRatio >= minThroughputRatio, p99: p99Ratio <= maxP99Ratio },
    }),
  };
}

const rate = (stats: SideStats): string => Math.round(stats.requestsPerSecond).toLocaleString('en-US');
const ms = (value: number): string => value.toFixed(2);
// Three decimals: at two, a ratio just under its target printed as equal to it.
const ratio = (value: number): string => value.toFixed(3);
const cpu = (stats: SideStats): string => Math.round(stats.cpuMicrosPerRequest).toString();
const verdict = (pass: boolean | undefined): string => (pass === undefined ? '' : pass ? ' pass' : ' **FAIL**');

/** The results as a Markdown table, one row per scenario, then the memory row. */
export function formatTable(reports: readonly ScenarioReport[], memory: MemoryReport | undefined): string {
  const lines = [
    '| scenario | side | req/s | p50 ms | p99 ms | CPU µs/req | first side vs second: throughput (median of rounds) | p99 |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const report of reports) {
    const throughputTarget = report.targets ? ` (≥ ${report.targets.minThroughputRatio.toFixed(2)})` : '';
    const p99Target = report.targets ? ` (≤ ${report.targets.maxP99Ratio.toFixed(2)})` : '';
    const { subject, baseline } = report;
    lines.push(
      `| ${report.title} | ${subject.side} | ${rate(subject)} | ${ms(subject.p50Ms)} | ${ms(subject.p99Ms)} | ${cpu(subject)} | ` +
        `${ratio(report.throughputRatio)}${throughputTarget}${verdict(report.pass?.throughput)} | ` +
        `${ratio(report.p99Ratio)}${p99Target}${verdict(report.pass?.p99)} |`,
      `| | ${baseline.side} | ${rate(baseline)} | ${ms(baseline.p50Ms)} | ${ms(baseline.p99Ms)} | ${cpu(baseline)} | | |`,
    );
  }
  if (memory) {
    lines.push(
      '',
      `MemoryStore: ${Math.round(memory.bytesPerPassword)} bytes of heap per stored password ` +
        `(${memory.instances.toLocaleString('en-US')} ${memory.idLength}-character ids, ` +
        `${memory.valueLength}-character base64 values; target ≤ ${memory.targetBytes})${verdict(memory.pass)}`,
    );
  }
  return lines.join('\n');
}
