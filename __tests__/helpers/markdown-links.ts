import { readFileSync } from 'node:fs';

/** One inline link or image of a Markdown file. */
export interface MarkdownLink {
  readonly line: number;
  readonly target: string;
}

/** Lines outside fenced code blocks, with their 1-based numbers. */
function proseLines(path: string): [number, string][] {
  let fence: string | undefined;
  const lines: [number, string][] = [];
  readFileSync(path, 'utf8')
    .split('\n')
    .forEach((text, index) => {
      const marker = /^\s*(`{3,}|~{3,})/.exec(text)?.[1];
      if (marker !== undefined && (fence === undefined || marker.startsWith(fence))) {
        fence = fence === undefined ? marker : undefined;
      } else if (fence === undefined) {
        lines.push([index + 1, text]);
      }
    });
  return lines;
}

/** Every `[text](target)` and `![alt](target)` of the file, outside code. */
export function markdownLinks(path: string): MarkdownLink[] {
  return proseLines(path).flatMap(([line, text]) =>
    [...text.replace(/`[^`]*`/g, '').matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((match) => ({ line, target: match[1] })),
  );
}

/** The anchors GitHub gives the file's headings: lower case, punctuation dropped, spaces as `-`. */
export function headingAnchors(path: string): string[] {
  return proseLines(path)
    .filter(([, text]) => /^#{1,6}\s/.test(text))
    .map(([, text]) =>
      text
        .replace(/^#{1,6}\s+/, '')
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, '')
        .replace(/\s/g, '-'),
    );
}
