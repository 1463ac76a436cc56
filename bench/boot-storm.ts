import { setTimeout as sleep } from 'node:timers/promises';
import { runBootStorm, type StormSample } from './boot-storm-load';
import type { RunningServer } from './children';
import { STORM_PREFIX } from './fixtures';
import { percentile } from './measure';
import { sideLabel, type ServerSetup } from './scenarios';
import { pinApart, startSide, type ServerContext } from './sides';

/**
 * The boot storm: instances booting at a fixed rate, each GETting then POSTing its password on new
 * connections (bench/boot-storm-load.ts). Per side, the capacity (the highest rate whose requests
 * all answer 200 with p99 within `P99_LIMIT_MS`), then the latency at 50 % and 90 % of a reference
 * side's capacity (Nova's with `--peer nova`).
 */

/** How long each step runs: `STORM_TIMING`, or `--quick`'s. */
export interface StormTiming {
  /** Each step of the capacity search. */
  readonly probeSeconds: number;
  /** Each load point at a fraction of the reference's capacity. */
  readonly pointSeconds: number;
  /** Halvings of the interval between the last rate that held and the first that did not. */
  readonly bisections: number;
}
export const STORM_TIMING: StormTiming = { probeSeconds: 2, pointSeconds: 4, bisections: 3 };
export const QUICK_STORM_TIMING: StormTiming = { probeSeconds: 1, pointSeconds: 1, bisections: 1 };

/** A rate holds when every request answers 200 and the p99 is within this. */
export const P99_LIMIT_MS = 50;
/** Where the search starts (instances per second), and the factor between its steps. */
const START_RATE = 50;
const GROWTH = 1.5;
/** No 2-core server comes near this; it ends a search that would never fail. */
const MAX_RATE = 20_000;
/** Warm-up before the search, so V8 has optimised the Node sides. */
const WARMUP = { rate: 200, seconds: 2 };
/** Load points, as fractions of the reference's capacity. */
export const FRACTIONS = [0.5, 0.9] as const;
/** Targets against Nova: capacity, and the p99 at 90 % of Nova's capacity. */
export const MIN_CAPACITY_RATIO = 1.2;

/** One side of the storm: how it runs, and whether it is pinned to a core apart from the client. */
interface StormSide {
  readonly setup: ServerSetup;
  readonly pinned: boolean;
}

/** A comparison: the reference side's capacity sets the load points of every side in it. */
interface StormConfiguration {
  readonly title: string;
  readonly reference: StormSide;
  readonly others: readonly StormSide[];
  /** Whether the router's targets apply (against Nova). */
  readonly targets: boolean;
}

const one = (side: ServerSetup['side']): StormSide => ({ setup: { side }, pinned: true });
const perCore = (side: ServerSetup['side']): StormSide => ({ setup: { side, processes: 'cores' }, pinned: false });

const ONE_PROCESS_OTHERS = [one('router'), one('express'), one('node-http')];

function configurations(withNova: boolean): StormConfiguration[] {
  if (!withNova) {
    return [
      { title: 'one process', reference: one('express'), others: [one('router'), one('node-http')], targets: false },
      { title: 'a process per core', reference: one('router'), others: [perCore('router')], targets: false },
    ];
  }
  return [
    // The hand-written route and bare node:http show how much of the answer is the platform's.
    { title: 'one process, against a sync worker', reference: one('nova-sync'), others: ONE_PROCESS_OTHERS, targets: true },
    { title: 'one process, against a gthread worker', reference: one('nova-gthread'), others: ONE_PROCESS_OTHERS, targets: true },
    { title: 'a process per core, against sync workers', reference: perCore('nova-sync'), others: [perCore('router')], targets: true },
    { title: 'a process per core, against gthread workers', reference: perCore('nova-gthread'), others: [perCore('router')], targets: true },
  ];
}

/** Latency at one load point. */
export interface StormPoint {
  readonly fraction: number;
  readonly rate: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly errors: number;
}

/** A rate tried in the capacity search. */
export interface StormProbe {
  readonly rate: number;
  readonly p99Ms: number;
  readonly errors: number;
  readonly held: boolean;
}

export interface StormSideReport {
  readonly side: string;
  /** Instances per second (two requests each); 0 when even the first rate failed. */
  readonly capacity: number;
  readonly probes: readonly StormProbe[];
  readonly points: readonly StormPoint[];
}

export interface StormConfigurationReport {
  readonly title: string;
  readonly reference: StormSideReport;
  readonly others: readonly StormSideReport[];
  /** The router against the reference (Nova), with the targets: undefined without targets. */
  readonly router?: {
    readonly capacityRatio: number;
    readonly capacityPass: boolean;
    /** The router's p99 over Nova's at 90 % of Nova's capacity. */
    readonly p99Ratio: number;
    readonly p99Pass: boolean;
  };
}

export interface StormReport {
  readonly p99LimitMs: number;
  readonly timing: StormTiming;
  readonly configurations: readonly StormConfigurationReport[];
}

let run = 0;
/** A storm step with ids no other step (of any side) used: every instance boots once. */
function storm(server: RunningServer, rate: number, seconds: number): Promise<StormSample> {
  return runBootStorm(server.port, rate, seconds, `${STORM_PREFIX}${process.pid}-${++run}`);
}

async function probe(server: RunningServer, rate: number, seconds: number): Promise<StormProbe> {
  const sample = await storm(server, rate, seconds);
  const p99Ms = percentile(sample.latenciesMs.sort(), 99);
  // Let the server close what is left of the step before the next one starts.
  await sleep(300);
  return { rate, p99Ms, errors: sample.errors, held: sample.errors === 0 && p99Ms <= P99_LIMIT_MS };
}

/**
 * A step at `rate`, tried a second time when it does not hold: one stall of the machine (a single
 * 400 ms pause among a thousand requests) must not end a side's search far below its capacity.
 * Both tries are recorded; the step holds when either did.
 */
async function confirmedProbe(server: RunningServer, rate: number, seconds: number, probes: StormProbe[]): Promise<boolean> {
  for (let attempt = 0; attempt < 2; attempt++) {
    const result = await probe(server, rate, seconds);
    probes.push(result);
    if (result.held) return true;
  }
  return false;
}

/** Raises the rate by `GROWTH` until a step does not hold, then bisects between the last two. */
async function capacity(server: RunningServer, timing: StormTiming): Promise<{ capacity: number; probes: StormProbe[] }> {
  const probes: StormProbe[] = [];
  let held = 0;
  let failed: number | undefined;
  for (let rate = START_RATE; rate <= MAX_RATE; rate = Math.round(rate * GROWTH)) {
    if (!(await confirmedProbe(server, rate, timing.probeSeconds, probes))) {
      failed = rate;
      break;
    }
    held = rate;
  }
  for (let i = 0; failed !== undefined && i < timing.bisections; i++) {
    const rate = Math.round((held + failed) / 2);
    if (rate === held || rate === failed) break;
    if (await confirmedProbe(server, rate, timing.probeSeconds, probes)) held = rate;
    else failed = rate;
  }
  return { capacity: held, probes };
}

async function point(server: RunningServer, fraction: number, referenceCapacity: number, seconds: number): Promise<StormPoint> {
  const rate = Math.max(1, Math.round(referenceCapacity * fraction));
  const sample = await storm(server, rate, seconds);
  const sorted = sample.latenciesMs.sort();
  await sleep(300);
  return {
    fraction,
    rate,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted.length === 0 ? Number.POSITIVE_INFINITY : sorted[sorted.length - 1],
    errors: sample.errors,
  };
}

/**
 * Starts `side` once, searches its capacity, then runs the load points of every reference capacity
 * given (the side's own when it is the reference).
 */
async function measureSide(
  side: StormSide,
  referenceCapacities: readonly number[] | 'own',
  context: ServerContext,
  timing: StormTiming,
): Promise<{ capacity: number; probes: StormProbe[]; pointsByReference: StormPoint[][] }> {
  const label = `boot-storm ${sideLabel(side.setup)}`;
  const server = await startSide('boot-storm', side.setup, 'memory', context);
  const unpin = pinApart(label, side.pinned, [server]);
  try {
    await storm(server, WARMUP.rate, timing === STORM_TIMING ? WARMUP.seconds : 0.5);
    const found = await capacity(server, timing);
    const references = referenceCapacities === 'own' ? [found.capacity] : referenceCapacities;
    const pointsByReference: StormPoint[][] = [];
    for (const reference of references) {
      const points: StormPoint[] = [];
      for (const fraction of FRACTIONS) points.push(await point(server, fraction, reference, timing.pointSeconds));
      pointsByReference.push(points);
    }
    console.log(`${label}: capacity ${found.capacity} instances/s`);
    return { ...found, pointsByReference };
  } finally {
    unpin();
    await server.stop();
  }
}

const key = (side: StormSide): string => sideLabel(side.setup);

/**
 * Runs the boot storm: each reference side first (its capacity sets the load points), then every
 * other side once, at the load points of every configuration it appears in.
 */
export async function measureBootStorm(context: ServerContext, timing: StormTiming): Promise<StormReport> {
  const configs = configurations(context.novaPython !== undefined);
  const reports = new Map<string, StormSideReport>();
  const pointsFor = new Map<string, StormPoint[]>(); // `${configuration} ${side}` -> points

  for (const config of configs) {
    const reference = key(config.reference);
    if (reports.has(reference)) continue;
    const measured = await measureSide(config.reference, 'own', context, timing);
    reports.set(reference, { side: reference, capacity: measured.capacity, probes: measured.probes, points: measured.pointsByReference[0] });
  }
  const others = [...new Map(configs.flatMap((config) => config.others.map((side) => [key(side), side] as const))).values()];
  for (const side of others) {
    const inConfigs = configs.filter((config) => config.others.some((other) => key(other) === key(side)));
    const capacities = inConfigs.map((config) => (reports.get(key(config.reference)) as StormSideReport).capacity);
    const measured = await measureSide(side, capacities, context, timing);
    inConfigs.forEach((config, index) => pointsFor.set(`${config.title} ${key(side)}`, measured.pointsByReference[index]));
    if (!reports.has(key(side))) reports.set(key(side), { side: key(side), capacity: measured.capacity, probes: measured.probes, points: [] });
  }

  return {
    p99LimitMs: P99_LIMIT_MS,
    timing,
    configurations: configs.map((config) => {
      const reference = reports.get(key(config.reference)) as StormSideReport;
      const sides = config.others.map((side) => ({
        ...(reports.get(key(side)) as StormSideReport),
        points: pointsFor.get(`${config.title} ${key(side)}`) ?? [],
      }));
      const router = sides.find((side) => side.side.startsWith('router'));
      const at90 = (report: StormSideReport) => report.points.find((p) => p.fraction === 0.9)?.p99Ms ?? Number.POSITIVE_INFINITY;
      const capacityRatio = router && reference.capacity > 0 ? router.capacity / reference.capacity : 0;
      const p99Ratio = router ? at90(router) / at90(reference) : Number.POSITIVE_INFINITY;
      return {
        title: config.title,
        reference,
        others: sides,
        ...(config.targets &&
          router && {
            router: {
              capacityRatio,
              capacityPass: capacityRatio >= MIN_CAPACITY_RATIO,
              p99Ratio,
              p99Pass: p99Ratio <= 1 && (router.points.find((p) => p.fraction === 0.9)?.errors ?? 1) === 0,
            },
          }),
      };
    }),
  };
}

const ms = (value: number): string => (Number.isFinite(value) ? value.toFixed(1) : '–');
const latency = (p: StormPoint | undefined): string =>
  p === undefined ? '' : `${p.rate}: ${ms(p.p50Ms)} / ${ms(p.p99Ms)} / ${ms(p.maxMs)}${p.errors > 0 ? ` (${p.errors} errors)` : ''}`;
const verdict = (pass: boolean): string => (pass ? 'pass' : '**FAIL**');

/** The boot storm's results as a Markdown table, one block of rows per configuration. */
export function formatStormTable(report: StormReport): string {
  const lines = [
    '| configuration | side | capacity, instances/s | vs the reference | at 50 %: rate: p50 / p99 / max ms | at 90 % | p99 at 90 % vs the reference |',
    '| --- | --- | ---: | ---: | --- | --- | ---: |',
  ];
  for (const config of report.configurations) {
    const rows = [config.reference, ...config.others];
    rows.forEach((side, index) => {
      const isReference = index === 0;
      const isRouter = !isReference && side.side.startsWith('router') && config.router;
      const ratio = isReference ? '' : (config.reference.capacity > 0 ? side.capacity / config.reference.capacity : 0).toFixed(2);
      const p99At90 = (s: StormSideReport) => s.points.find((p) => p.fraction === 0.9)?.p99Ms ?? Number.POSITIVE_INFINITY;
      const p99Ratio = isReference ? '' : (p99At90(side) / p99At90(config.reference)).toFixed(2);
      lines.push(
        `| ${isReference ? config.title : ''} | ${side.side} | ${side.capacity.toLocaleString('en-US')} | ` +
          `${ratio}${isRouter && config.router ? ` (≥ ${MIN_CAPACITY_RATIO.toFixed(1)}) ${verdict(config.router.capacityPass)}` : ''} | ` +
          `${latency(side.points.find((p) => p.fraction === 0.5))} | ${latency(side.points.find((p) => p.fraction === 0.9))} | ` +
          `${p99Ratio}${isRouter && config.router ? ` (≤ 1.00) ${verdict(config.router.p99Pass)}` : ''} |`,
      );
    });
  }
  return lines.join('\n');
}
