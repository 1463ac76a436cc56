import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** One fenced code block of the documentation. */
export interface DocBlock {
  /** The Markdown file, relative to the repository: `README.md`, `docs/stores.md`. */
  readonly file: string;
  /** The 1-based line of the opening fence. */
  readonly line: number;
  /** The fence's language: `ts`, `sh`, `sql`, `text`, ... (`''` when none). */
  readonly lang: string;
  /** The words after the language: `sketch` marks a block that is not meant to run. */
  readonly flags: readonly string[];
  readonly code: string;
}

/** `file:line`, how a failure names the block. */
export function where(block: DocBlock): string {
  return `${block.file}:${block.line}`;
}

/** README.md and every Markdown file of docs/, found when the test runs: new pages are picked up. */
export function documentationFiles(root: string): string[] {
  const docs = readdirSync(join(root, 'docs'), { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.md'))
    .map((name) => join(root, 'docs', name))
    .sort();
  return [join(root, 'README.md'), ...docs];
}

/** The fenced code blocks of one Markdown file, in order (indented fences in lists too). */
export function extractBlocks(root: string, path: string): DocBlock[] {
  const file = relative(root, path);
  const lines = readFileSync(path, 'utf8').split('\n');
  const blocks: DocBlock[] = [];
  for (let index = 0; index < lines.length; index++) {
    const open = /^(\s*)(`{3,}|~{3,})(.*)$/.exec(lines[index]);
    if (!open) continue;
    const [, indent, fence, info] = open;
    const body: string[] = [];
    let end = index + 1;
    while (end < lines.length && !(lines[end].trim().startsWith(fence) && lines[end].trim().slice(fence.length).trim() === '')) {
      body.push(lines[end].startsWith(indent) ? lines[end].slice(indent.length) : lines[end].trimStart());
      end++;
    }
    if (end === lines.length) throw new Error(`${file}:${index + 1}: a code fence is never closed`);
    const [lang = '', ...flags] = info.trim().split(/\s+/).filter(Boolean);
    blocks.push({ file, line: index + 1, lang, flags, code: body.join('\n') + '\n' });
    index = end;
  }
  return blocks;
}
