import { writeFileSync } from 'node:fs';
import { arch, cpus, platform } from 'node:os';
import { join } from 'node:path';
import { prepareBackends } from './backends';
import { startServer, type RunningServer } from './children';
import { CONNECTIONS, PIPELINING } from './load';
import { measurePair, ROUND_SECONDS, ROUNDS, WARMUP_SECONDS } from './measure';
import { MEMORY_INSTANCES, MEMORY_TARGET_BYTES, measureMemoryStore } from './memory';
import { SCENARIOS, type Scenario } from './scenarios';
import { formatTable, scenarioReport, type MemoryReport, type ScenarioReport } from './table';

const RESULTS_FILE = join(__dirname, '..', '..', 'bench', 'results.json');
const USAGE = `usage: node dist/bench/run.js [--only ID,...] [--cpu-prof DIR] [--no-memory]
  --only      run these scenarios (${SCENARIOS.map((scenario) => scenario.id).join(', ')})
  --cpu-prof  write each server's CPU profile to DIR/<scenario>/<side>/ (summarise them with
              node dist/bench/profile.js)
  --no-memory skip the MemoryStore measurement
A partial run prints its table but leaves bench/results.json alone.`;

interface Args {
  readonly only?: ReadonlySet<string>;
  readonly cpuProfileDir?: string;
  readonly memory: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  let only: Set<string> | undefined;
  let cpuProfileDir: string | undefined;
  let memory = true;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--only' && argv[i + 1]) only = new Set(argv[++i].split(','));
    else if (arg === '--cpu-prof' && argv[i + 1]) cpuProfileDir = argv[++i];
    else if (arg === '--no-memory') memory = false;
    else if (arg === '--help') {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown argument ${arg}\n${USAGE}`);
  }
  const unknown = [...(only ?? [])].filter((id) => !SCENARIOS.some((scenario) => scenario.id === id));
  if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(', ')}\n${USAGE}`);
  return { only, cpuProfileDir, memory };
}

function machine() {
  return { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version, platform: `${platform()} ${arch()}` };
}

async function measureScenario(
  scenario: Scenario,
  names: Parameters<typeof startServer>[0]['names'],
  cpuProfileDir: string | undefined,
): Promise<ScenarioReport> {
  const servers: RunningServer[] = [];
  try {
    for (const side of [scenario.subject, scenario.baseline]) {
      const profileDir = cpuProfileDir && join(cpuProfileDir, scenario.id, side);
      servers.push(await startServer({ side, backend: scenario.backend, names }, profileDir));
    }
    return scenarioReport(scenario, await measurePair(scenario, servers[0], servers[1]));
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  const args = parseArgs(process.argv.slice(2));
  const scenarios = SCENARIOS.filter((scenario) => !args.only || args.only.has(scenario.id));
  const backends = await prepareBackends();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void backends.cleanup().finally(() => process.exit(130)));
  }

  const reports: ScenarioReport[] = [];
  let memory: MemoryReport | undefined;
  try {
    for (const scenario of scenarios) {
      const unavailable = backends.unavailable[scenario.backend];
      if (unavailable) {
        console.warn(`skipping ${scenario.id}: ${unavailable}`);
        continue;
      }
      const report = await measureScenario(scenario, backends.names, args.cpuProfileDir);
      reports.push(report);
      console.log(
        `${scenario.id}: ${report.subject.side} ${Math.round(report.subject.requestsPerSecond)} req/s, ` +
          `${report.baseline.side} ${Math.round(report.baseline.requestsPerSecond)} req/s`,
      );
    }
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
    warmupSeconds: WARMUP_SECONDS,
    rounds: ROUNDS,
    roundSeconds: ROUND_SECONDS,
    memoryInstances: MEMORY_INSTANCES,
  };
  const host = machine();
  console.log(
    `\n${host.cpu}, ${host.cores} cores, Node ${host.node}, ${host.platform}; autocannon, ${CONNECTIONS} connections, ` +
      `pipelining ${PIPELINING}; per side ${WARMUP_SECONDS} s warm-up, then ${ROUNDS} alternating rounds of ${ROUND_SECONDS} s\n`,
  );
  console.log(formatTable(reports, memory));
  const seconds = Math.round((Date.now() - started) / 1000);
  console.log(`\n${seconds} s`);
  if (args.only || args.cpuProfileDir || !args.memory) return;
  const results = { machine: host, settings, scenarios: reports, memory, seconds };
  writeFileSync(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`wrote ${RESULTS_FILE}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
