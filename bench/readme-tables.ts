import { readFileSync, writeFileSync } from 'node:fs';

/**
 * Replaces the text between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->` in `file` with
 * `tables[NAME]`, for every name given, so a full run updates bench/README.md's tables itself.
 * A marker pair missing from the file is an error (the run would otherwise drop a table silently),
 * unless `optional`, when the file is left as it is and false returned.
 */
export function writeTables(file: string, tables: Readonly<Record<string, string>>, optional = false): boolean {
  let text = readFileSync(file, 'utf8');
  for (const [name, table] of Object.entries(tables)) {
    const open = `<!-- bench:${name} -->`;
    const close = `<!-- /bench:${name} -->`;
    const start = text.indexOf(open);
    const end = text.indexOf(close);
    if (start === -1 || end < start) {
      if (optional) return false;
      throw new Error(`${file} has no ${open} ... ${close} markers`);
    }
    text = `${text.slice(0, start + open.length)}\n${table}\n${text.slice(end)}`;
  }
  writeFileSync(file, text);
  return true;
}
