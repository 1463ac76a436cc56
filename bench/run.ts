import { writeFileSync } from 'node:fs';
import { arch, cpus, platform } from 'node:os';
import { join } from 'node:path';
import { prepareBackends } from './backends';
import type { RunningServer } from './children';
import { CONNECTION_SCENARIOS, SCALING_SCENARIOS } from './connection-scenarios';
import { CONNECTIONS, PIPELINING } from './load';
import { FULL_TIMING, measurePair, QUICK_TIMING, type Timing } from './measure';
import { MEMORY_INSTANCES, MEMORY_TARGET_BYTES, measureMemoryStore } from './memory';
import { findNovaPython, GTHREADS, NOVA_INSTALL } from './nova-peer';
import { NOVA_SCENARIOS } from './nova-scenarios';
import { formatStormTable, measureBootStorm, QUICK_STORM_TIMING, STORM_TIMING, type StormReport } from './boot-storm';
import { formatScale, measureScale, SCALE_INSTANCES, type ScaleReport } from './scale';
import { writeTables } from './readme-tables';
import { summarySentence } from './summary';
import { SCENARIOS as KEEP_ALIVE_SCENARIOS, type Scenario } from './scenarios';
import { pinApart, startSide, type ServerContext } from './sides';
import { formatTable, scenarioReport, type MemoryReport, type ScenarioReport } from './table';

const RESULTS_FILE = join(__dirname, '..', '..', 'bench', 'results.json');
const README_FILE = join(__dirname, '..', '..', 'bench', 'README.md');
const PROJECT_README = join(__dirname, '..', '..', 'README.md');
const SCENARIOS: readonly Scenario[] = [...KEEP_ALIVE_SCENARIOS, ...CONNECTION_SCENARIOS, ...SCALING_SCENARIOS, ...NOVA_SCENARIOS];
/** The parts of a run that are not pairs: `--only` names them like scenarios. */
const BOOT_STORM = 'boot-storm';
const SCALE = 'scale';
const USAGE = `usage: node dist/bench/run.js [--peer nova] [--only ID,...] [--quick] [--cpu-prof DIR] [--no-memory] [--server-flags FLAGS]
  --peer nova also measure against Nova's own metadata handler under gunicorn (${NOVA_SCENARIOS.length} rows and
              the boot storm's Nova sides); it needs Debian's python3-nova and gunicorn: ${NOVA_INSTALL}
  --only      run these scenarios (${SCENARIOS.map((scenario) => scenario.id).join(', ')}),
              ${BOOT_STORM} (the boot storm) and ${SCALE} (the cost at ${SCALE_INSTANCES.toLocaleString('en-US')} instances)
  --server-flags  extra Node flags for the Node servers, e.g. "--max-semi-space-size=16 --trace-gc"
  --cpu-prof  write each Node server's CPU profile to DIR/<scenario>/<side>/ (summarise them with
              node dist/bench/profile.js)
  --quick     ${QUICK_TIMING.rounds} rounds of ${QUICK_TIMING.roundSeconds} s per pair, to check that a run works (ratios too noisy to quote)
  --no-memory skip the MemoryStore measurement
A partial or quick run prints its table but leaves bench/results.json alone.`;

interface Args {
  readonly only?: ReadonlySet<string>;
  readonly serverFlags: readonly string[];
  readonly cpuProfileDir?: string;
  readonly memory: boolean;
  readonly peer?: 'nova';
  readonly timing: Timing;
}

function parseArgs(argv: readonly string[]): Args {
  let only: Set<string> | undefined;
  let cpuProfileDir: string | undefined;
  let memory = true;
  let peer: 'nova' | undefined;
  let timing = FULL_TIMING;
  let serverFlags: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--only' && argv[i + 1]) only = new Set(argv[++i].split(','));
    else if (arg === '--cpu-prof' && argv[i + 1]) cpuProfileDir = argv[++i];
    else if (arg === '--no-memory') memory = false;
    else if (arg === '--server-flags' && argv[i + 1]) serverFlags = argv[++i].split(/\s+/).filter(Boolean);
    else if (arg === '--quick') timing = QUICK_TIMING;
    else if (arg === '--peer' && argv[i + 1] === 'nova') peer = argv[++i] as 'nova';
    else if (arg === '--help') {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown argument ${arg}\n${USAGE}`);
  }
  const unknown = [...(only ?? [])].filter((id) => id !== BOOT_STORM && id !== SCALE && !SCENARIOS.some((scenario) => scenario.id === id));
  if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(', ')}\n${USAGE}`);
  const peerRows = [...(only ?? [])].filter((id) => NOVA_SCENARIOS.some((scenario) => scenario.id === id));
  if (peerRows.length > 0 && !peer) throw new Error(`${peerRows.join(', ')} need --peer nova\n${USAGE}`);
  return { only, serverFlags, cpuProfileDir, memory, peer, timing };
}

/** The line above the tables: what ran, where, how long. */
function runLine(host: ReturnType<typeof machine>, seconds: number): string {
  return (
    `One run of \`npm run bench -- --peer nova\` on ${host.cpu}, ${host.cores} cores, Node ${host.node}, ${host.platform}, ` +
    `${new Date().toISOString().slice(0, 10)}, ${Math.round(seconds / 60)} minutes (\`bench/results.json\` holds it).`
  );
}

function machine() {
  return { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version, platform: `${platform()} ${arch()}` };
}

async function measureScenario(scenario: Scenario, context: ServerContext, timing: Timing): Promise<ScenarioReport> {
  const servers: RunningServer[] = [];
  let unpin = (): void => undefined;
  try {
    for (const side of [scenario.subject, scenario.baseline]) servers.push(await startSide(scenario.id, side, scenario.backend, context));
    unpin = pinApart(scenario.id, scenario.pinned, servers);
    return scenarioReport(scenario, await measurePair(scenario, servers[0], servers[1], timing));
  } finally {
    unpin();
    await Promise.all(servers.map((server) => server.stop()));
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  const args = parseArgs(process.argv.slice(2));
  const scenarios = SCENARIOS.filter(
    (scenario) => (!args.only || args.only.has(scenario.id)) && (!scenario.peer || scenario.peer === args.peer),
  );
  let novaPython: string | undefined;
  if (args.peer === 'nova') {
    const found = findNovaPython();
    if ('missing' in found) throw new Error(`--peer nova: ${found.missing}`);
    novaPython = found.python;
  }
  const backends = await prepareBackends();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void backends.cleanup().finally(() => process.exit(130)));
  }

  const context: ServerContext = { names: backends.names, novaPython, cpuProfileDir: args.cpuProfileDir, serverFlags: args.serverFlags };
  const reports: ScenarioReport[] = [];
  let memory: MemoryReport | undefined;
  let bootStorm: StormReport | undefined;
  let scale: ScaleReport | undefined;
  const quick = args.timing !== FULL_TIMING;
  try {
    for (const scenario of scenarios) {
      const unavailable = backends.unavailable[scenario.backend];
      if (unavailable) {
        console.warn(`skipping ${scenario.id}: ${unavailable}`);
        continue;
      }
      const report = await measureScenario(scenario, context, args.timing);
      reports.push(report);
      console.log(
        `${scenario.id}: ${report.subject.side} ${Math.round(report.subject.requestsPerSecond)} req/s, ` +
          `${report.baseline.side} ${Math.round(report.baseline.requestsPerSecond)} req/s`,
      );
    }
    if (!args.only || args.only.has(BOOT_STORM)) {
      bootStorm = await measureBootStorm(context, quick ? QUICK_STORM_TIMING : STORM_TIMING);
    }
    if (!args.only || args.only.has(SCALE)) scale = await measureScale(context, args.timing, backends.unavailable);
    if (args.memory) {
      const result = await measureMemoryStore();
      memory = { ...result, targetBytes: MEMORY_TARGET_BYTES, pass: result.bytesPerPassword <= MEMORY_TARGET_BYTES };
    }
  } finally {
    await backends.cleanup();
  }

  const settings = {
    connections: CONNECTIONS,
    pipelining: PIPELINING,
    ...args.timing,
    memoryInstances: MEMORY_INSTANCES,
    ...(novaPython && { nova: { python: novaPython, gthreads: GTHREADS } }),
  };
  const host = machine();
  console.log(
    `\n${host.cpu}, ${host.cores} cores, Node ${host.node}, ${host.platform}; autocannon, ${CONNECTIONS} connections, ` +
      `pipelining ${PIPELINING} (connection-per-request rows: ${CONNECTIONS} in flight); ` +
      `per side ${args.timing.warmupSeconds} s warm-up, then ${args.timing.rounds} alternating rounds of ${args.timing.roundSeconds} s\n`,
  );
  const tables: Record<string, string> = { pairs: formatTable(reports, memory) };
  if (bootStorm) tables.storm = formatStormTable(bootStorm);
  if (scale) tables.scale = [formatScale(scale), '', formatTable(scale.gets, undefined)].join('\n');
  console.log(Object.values(tables).join('\n\n'));
  const seconds = Math.round((Date.now() - started) / 1000);
  console.log(`\n${seconds} s`);
  if (args.only || args.cpuProfileDir || !args.memory || quick || args.serverFlags.length > 0) return;
  const results = { machine: host, settings, scenarios: reports, memory, bootStorm, scale, seconds };
  writeFileSync(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`wrote ${RESULTS_FILE}`);
  if (args.peer === 'nova') {
    const summary = summarySentence(reports, bootStorm);
    writeTables(README_FILE, { ...tables, run: runLine(host, seconds), summary });
    console.log(`updated the tables in ${README_FILE}`);
    const written = writeTables(PROJECT_README, { summary }, true);
    console.log(written ? `updated the performance sentence in ${PROJECT_README}` : `${PROJECT_README} has no bench:summary markers; its sentence:\n${summary}`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
