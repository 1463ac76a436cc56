import { readdirSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { headingAnchors, markdownLinks } from './helpers/markdown-links';
import { makeWorkDir, packTarball, removeWorkDir, REPO_ROOT, type PackedPackage } from './helpers/packaging-project';

const manifest = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
  exports: Record<string, string | Record<string, string>>;
  bin: Record<string, string>;
};

/** Every file the exports map and the bin point to, as tarball paths. */
function manifestTargets(): string[] {
  const targets = Object.values(manifest.exports).flatMap((target) =>
    typeof target === 'string' ? [target] : Object.values(target),
  );
  return [...targets, ...Object.values(manifest.bin)].map((target) => target.replace(/^\.\//, ''));
}

describe('the packed tarball', () => {
  let workDir: string | undefined;
  let packed: PackedPackage;

  beforeAll(async () => {
    workDir = await makeWorkDir();
    packed = await packTarball(workDir);
  }, 60_000);
  afterAll(() => removeWorkDir(workDir));

  test('holds package.json, the README and the compiled library', () => {
    expect(packed.files).toEqual(
      expect.arrayContaining(['package.json', 'README.md', 'dist/lib/index.js', 'dist/lib/stores/redis.js']),
    );
  });

  test('holds the browser module as ES modules, marked so for Node', async () => {
    expect(packed.files).toEqual(expect.arrayContaining(['dist/lib/browser/index.js', 'dist/lib/browser/package.json']));
    const marker = JSON.parse(readFileSync(join(REPO_ROOT, 'dist', 'lib', 'browser', 'package.json'), 'utf8'));
    expect(marker).toEqual({ type: 'module' });
    expect(manifest.exports['./browser']).toEqual({
      types: './dist/lib/browser/index.d.ts',
      import: './dist/lib/browser/index.js',
      default: './dist/lib/browser/index.js',
    });
  });

  test('holds every file the exports map and the bin name', () => {
    expect(manifestTargets().filter((target) => !packed.files.includes(target))).toEqual([]);
  });

  test('has a declaration file beside every compiled module', () => {
    const modules = packed.files.filter((file) => file.endsWith('.js'));
    expect(modules.length).toBeGreaterThan(10);
    const undeclared = modules.filter((file) => !packed.files.includes(file.replace(/\.js$/, '.d.ts')));
    expect(undeclared).toEqual([]);
  });

  test('holds the documentation: docs/, CHANGELOG.md, SECURITY.md, CONTRIBUTING.md, bench/README.md', () => {
    const pages = readdirSync(join(REPO_ROOT, 'docs')).map((name) => `docs/${name}`);
    expect(packed.files).toEqual(
      expect.arrayContaining(['CHANGELOG.md', 'SECURITY.md', 'CONTRIBUTING.md', 'bench/README.md', ...pages]),
    );
  });

  test('every relative link of the packed README and docs/ resolves to a packed file, and every anchor to a heading', () => {
    const pages = packed.files.filter((file) => file === 'README.md' || /^docs\/.+\.md$/.test(file));
    const broken = pages.flatMap((page) =>
      markdownLinks(join(REPO_ROOT, page))
        .filter((link) => !/^[a-z][a-z0-9+.-]*:/i.test(link.target))
        .flatMap((link) => {
          const [path, anchor] = link.target.split('#');
          const file = path === '' ? page : posix.normalize(posix.join(posix.dirname(page), path));
          if (!packed.files.includes(file)) return [`${page}:${link.line}: ${link.target} (${file} is not packed)`];
          if (anchor !== undefined && file.endsWith('.md') && !headingAnchors(join(REPO_ROOT, file)).includes(anchor)) {
            return [`${page}:${link.line}: ${link.target} (no heading #${anchor} in ${file})`];
          }
          return [];
        }),
    );
    expect(pages.length).toBeGreaterThan(5);
    expect(broken).toEqual([]);
  });

  test('holds nothing else: no tests, examples, benchmark code, CI scripts, TypeScript sources or build info', () => {
    const shipped =
      /^(package\.json|README\.md|CHANGELOG\.md|SECURITY\.md|CONTRIBUTING\.md|bench\/README\.md|docs\/[^/]+\.(md|png)|LICEN[CS]E(\.md)?|dist\/lib\/.+\.(js|d\.ts|js\.map)|dist\/lib\/browser\/package\.json)$/;
    const unexpected = packed.files.filter((file) => !shipped.test(file));
    expect(unexpected).toEqual([]);
  });
});
