import { CHROMIUM_PATH, chromiumInstalled } from '../../examples/chromium';

/**
 * `describe` for a suite that drives Chromium: skipped with a printed reason when the browser is
 * not installed, unless `REQUIRE_SERVICES=1` (CI), when it runs and fails.
 */
export function describeWithChromium(name: string): jest.Describe {
  if (process.env.REQUIRE_SERVICES === '1' || chromiumInstalled()) return describe;
  console.warn(
    `Skipping ${name}: no browser at ${CHROMIUM_PATH} (apt-get install chromium, or set CHROMIUM_PATH; ` +
      'set REQUIRE_SERVICES=1 to fail instead).',
  );
  return describe.skip;
}
