import type { RunningServer } from './children';
import { runClosingLoad } from './closing-load';
import { runLoad, type LoadSample } from './load';
import { sideLabel, type Scenario } from './scenarios';

/** How long a pair is measured: `FULL_TIMING`, or `--quick`'s check that a run works. */
export interface Timing {
  readonly warmupSeconds: number;
  readonly rounds: number;
  readonly roundSeconds: number;
}
// 6 rounds (8 before the boot storm and the cost at scale joined the run) keep the full run within 20 minutes.
export const FULL_TIMING: Timing = { warmupSeconds: 1.5, rounds: 6, roundSeconds: 1 };
export const QUICK_TIMING: Timing = { warmupSeconds: 0.5, rounds: 2, roundSeconds: 1 };
/** Each side's warm-up repeats until it has served this many requests, at most this many times. */
const MIN_WARMUP_REQUESTS = 5000;
const MAX_WARMUP_PERIODS = 6;

/** One side of a pair over all its rounds. */
export interface SideStats {
  /** The side and, when it runs several processes, how many (see `sideLabel`). */
  readonly side: string;
  readonly requests: number;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** The server's CPU time per request: steadier than throughput on a busy machine. */
  readonly cpuMicrosPerRequest: number;
}

export interface PairResult {
  readonly subject: SideStats;
  readonly baseline: SideStats;
  /** Subject over baseline requests per second, round by round. */
  readonly roundRatios: readonly number[];
}

/**
 * Measures `scenario` on both servers in alternating rounds after a warm-up of each, so both see
 * the same drift of the machine. The order flips every round (subject first, then baseline first),
 * so neither side always runs in the other's wake.
 */
export async function measurePair(
  scenario: Scenario,
  subject: RunningServer,
  baseline: RunningServer,
  { warmupSeconds, rounds, roundSeconds }: Timing = FULL_TIMING,
): Promise<PairResult> {
  const sides = [
    { side: sideLabel(scenario.subject), server: subject, samples: [] as LoadSample[], cpuMicros: 0 },
    { side: sideLabel(scenario.baseline), server: baseline, samples: [] as LoadSample[], cpuMicros: 0 },
  ];
  const load = scenario.connection === 'close' ? runClosingLoad : runLoad;
  for (const { side, server } of sides) await checkAnswer(scenario, side, server.port);
  for (const { side, server } of sides) {
    // V8 optimises after thousands of calls: on a busy machine one warm-up period may not reach them.
    let warmed = 0;
    for (let period = 0; period < MAX_WARMUP_PERIODS && warmed < MIN_WARMUP_REQUESTS; period++) {
      warmed += check(scenario, side, await load(server.port, scenario, warmupSeconds)).latenciesMs.length;
    }
  }
  for (let round = 0; round < rounds; round++) {
    for (const entry of round % 2 === 0 ? sides : [...sides].reverse()) {
      const cpuBefore = await entry.server.cpuMicros();
      entry.samples.push(check(scenario, entry.side, await load(entry.server.port, scenario, roundSeconds)));
      entry.cpuMicros += (await entry.server.cpuMicros()) - cpuBefore;
    }
  }
  const [subjectStats, baselineStats] = sides.map(({ side, samples, cpuMicros }) => summarise(side, samples, cpuMicros));
  const rate = (sample: LoadSample): number => sample.latenciesMs.length / sample.seconds;
  const roundRatios = sides[0].samples.map((sample, round) => rate(sample) / rate(sides[1].samples[round]));
  return { subject: subjectStats, baseline: baselineStats, roundRatios };
}

/** Sends one request and checks the answer, so a side that does different work fails loudly. */
async function checkAnswer(scenario: Scenario, side: string, port: number): Promise<void> {
  const { method, path, headers, body } = scenario.request();
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { method, headers, body });
  const text = await response.text();
  if (response.status !== scenario.expectedStatus || text !== scenario.expectedBody) {
    throw new Error(
      `${scenario.id}: the ${side} side answered ${response.status} ${JSON.stringify(text.slice(0, 200))}; ` +
        `expected ${scenario.expectedStatus} ${JSON.stringify(scenario.expectedBody.slice(0, 200))}.`,
    );
  }
}

function check(scenario: Scenario, side: string, sample: LoadSample): LoadSample {
  const unexpected = Object.entries(sample.statusCounts).filter(([status]) => Number(status) !== scenario.expectedStatus);
  if (sample.errors > 0 || unexpected.length > 0 || sample.latenciesMs.length === 0) {
    throw new Error(
      `${scenario.id}: the ${side} side had ${sample.errors} errors and statuses ${JSON.stringify(sample.statusCounts)}; ` +
        `expected only ${scenario.expectedStatus}.`,
    );
  }
  return sample;
}

function summarise(side: string, samples: readonly LoadSample[], cpuMicros: number): SideStats {
  const latencies = new Float64Array(samples.reduce((sum, sample) => sum + sample.latenciesMs.length, 0));
  let offset = 0;
  for (const sample of samples) {
    latencies.set(sample.latenciesMs, offset);
    offset += sample.latenciesMs.length;
  }
  latencies.sort();
  const seconds = samples.reduce((sum, sample) => sum + sample.seconds, 0);
  return {
    side,
    requests: latencies.length,
    requestsPerSecond: latencies.length / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    cpuMicrosPerRequest: cpuMicros / latencies.length,
  };
}

/** Nearest-rank percentile of sorted values. */
/** The `p`th percentile of ascending `sorted` (nearest rank); infinite when there is none. */
export function percentile(sorted: Float64Array, p: number): number {
  return sorted.length === 0 ? Number.POSITIVE_INFINITY : sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}
