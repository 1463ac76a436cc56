import { readFileSync } from 'node:fs';

/**
 * Summarises CPU profiles written by `npm run bench -- --cpu-prof DIR`: self time per package or
 * file, in percent of the busy (not idle) time, and with a second profile the difference.
 *
 *   node dist/bench/profile.js DIR/guest-get/router/*.cpuprofile [DIR/guest-get/express/*.cpuprofile]
 */

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { url: string; functionName: string } }>;
  samples: number[];
  timeDeltas: number[];
}

const IDLE = '(idle)';

/** Who a frame's time belongs to: its npm package, its file in this project, or Node's module. */
function owner(url: string, functionName: string): string {
  const inPackage = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (inPackage) return inPackage[1];
  const inProject = /\/(dist\/.*)$/.exec(url);
  return inProject?.[1] ?? (url || functionName);
}

function selfTimeShares(file: string): Map<string, number> {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const times = new Map<string, number>();
  profile.samples.forEach((id, index) => {
    const frame = frames.get(id);
    if (!frame) return;
    const key = owner(frame.url, frame.functionName);
    times.set(key, (times.get(key) ?? 0) + (profile.timeDeltas[index] ?? 0));
  });
  const busy = [...times].reduce((sum, [key, time]) => (key === IDLE ? sum : sum + time), 0);
  times.delete(IDLE);
  return new Map([...times].map(([key, time]) => [key, (100 * time) / busy]));
}

function main(): void {
  const [subjectFile, baselineFile] = process.argv.slice(2);
  if (!subjectFile) {
    console.error('usage: node dist/bench/profile.js PROFILE.cpuprofile [BASELINE.cpuprofile]');
    process.exitCode = 1;
    return;
  }
  const subject = selfTimeShares(subjectFile);
  const baseline = baselineFile ? selfTimeShares(baselineFile) : new Map<string, number>();
  const rows = [...new Set([...subject.keys(), ...baseline.keys()])]
    .map((key) => ({ key, subject: subject.get(key) ?? 0, baseline: baseline.get(key) ?? 0 }))
    .sort((a, b) => b.subject - b.baseline - (a.subject - a.baseline))
    .slice(0, 30);
  // Shares of each process's own busy time: a module only the subject runs stands out at once.
  console.log(baselineFile ? '  % busy  baseline %  difference' : '  % busy');
  for (const row of rows) {
    const columns = [row.subject.toFixed(1).padStart(8)];
    if (baselineFile) columns.push(row.baseline.toFixed(1).padStart(11), (row.subject - row.baseline).toFixed(1).padStart(11));
    console.log(`${columns.join(' ')}  ${row.key}`);
  }
}

main();
