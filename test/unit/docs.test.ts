import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const README = join(ROOT, 'README.md');
const DOCS = join(ROOT, 'docs');
const README_MAX_LINES = 250;

const read = (file: string): string => readFileSync(file, 'utf8');
const documents = (): string[] => [README, ...readdirSync(DOCS).filter((name) => name.endsWith('.md')).map((name) => join(DOCS, name))];

/** The lines of a markdown text outside fenced code blocks, with inline code blanked out. */
function prose(text: string): string[] {
  let fenced = false;
  return text.split('\n').map((line) => {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      return '';
    }
    return fenced ? '' : line.replace(/`[^`]*`/g, (code) => ' '.repeat(code.length));
  });
}

/** The targets of the inline links and images of a markdown text: `[text](target)`, `![alt](target)`. */
export function linkTargets(text: string): string[] {
  return prose(text).flatMap((line) => [...line.matchAll(/\]\(([^()\s]+)(?:\s+"[^"]*")?\)/g)].map((match) => match[1] ?? ''));
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens; repeats get -1, -2, … */
export function headingAnchors(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of text.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const heading = fenced ? undefined : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const slug = heading.toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

/** Every relative link of `file` that does not lead to a file, or to a heading of it. */
export function brokenLinks(file: string, text = read(file)): string[] {
  return linkTargets(text).filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target)).flatMap((target) => {
    const [path = '', anchor] = target.split('#');
    const resolved = path === '' ? file : join(dirname(file), decodeURIComponent(path));
    if (!existsSync(resolved)) return [`${target} (no file ${relative(ROOT, resolved)})`];
    if (anchor === undefined || anchor === '' || !resolved.endsWith('.md')) return [];
    return headingAnchors(read(resolved)).has(anchor.toLowerCase()) ? [] : [`${target} (no heading #${anchor} in ${relative(ROOT, resolved)})`];
  });
}

/** The repository paths under src/, scripts/, bench/ or test/ that a text names. */
export function namedPaths(text: string): string[] {
  return [...new Set([...text.matchAll(/(?<![\w./-])(?:src|scripts|bench|test)\/[\w./-]*[\w/]/g)].map((match) => match[0]))];
}

/** The part of a markdown text under `## title`, up to the next heading of that level. */
function section(text: string, title: string): string {
  const start = text.indexOf(`\n## ${title}\n`);
  assert.ok(start >= 0, `a "## ${title}" section`);
  const end = text.indexOf('\n## ', start + 1);
  return text.slice(start, end < 0 ? undefined : end);
}

describe('docs', () => {
  it('has no broken relative link or anchor in README.md and docs/*.md', () => {
    const broken = documents().flatMap((file) => brokenLinks(file).map((link) => `${relative(ROOT, file)}: ${link}`));
    assert.deepEqual(broken, []);
  });

  it('finds a broken link, a missing file and a missing heading', () => {
    const file = join(DOCS, 'design.md');
    assert.deepEqual(brokenLinks(file, '[ok](../README.md#quick-start) [gone](../README.md#no-such-heading) [missing](nowhere.md) `[code](not-a-link.md)`\n```\n[fenced](not-a-link.md)\n```\n[web](https://example.com/x.md)'), [
      '../README.md#no-such-heading (no heading #no-such-heading in README.md)',
      'nowhere.md (no file docs/nowhere.md)',
    ]);
  });

  it('slugs headings as GitHub does', () => {
    assert.deepEqual([...headingAnchors('# Real clusters: TLS, SASL, ACLs\n## `orders consume`\n## Broker failures (three-node cluster)\n## Tests\n## Tests\n```\n# not a heading\n```')],
      ['real-clusters-tls-sasl-acls', 'orders-consume', 'broker-failures-three-node-cluster', 'tests', 'tests-1']);
  });

  it('names only files that exist in docs/design.md and the README layout', () => {
    const named = [...namedPaths(read(join(DOCS, 'design.md'))), ...namedPaths(section(read(README), 'Layout'))];
    assert.ok(named.length > 40, `design.md and the layout name the source files (found ${named.length})`);
    assert.deepEqual(named.filter((path) => !existsSync(join(ROOT, path))), []);
  });

  it(`keeps the README at most ${README_MAX_LINES} lines`, () => {
    const lines = read(README).split('\n').length - 1;
    assert.ok(lines <= README_MAX_LINES, `README.md has ${lines} lines; move the detail to docs/`);
  });

  it("runs in its quick start what CI and package.json's scripts run", () => {
    const quickStart = section(read(README), 'Quick start');
    const commands = [...quickStart.matchAll(/^(npm (?:test|run \S+)(?: -- \S+)*)/gm)].map((match) => match[1] ?? '');
    assert.deepEqual(commands, ['npm run demo', 'npm run demo -- --registry', 'npm test']);
    const scripts = (JSON.parse(read(join(ROOT, 'package.json'))) as { scripts: Record<string, string> }).scripts;
    // CI runs the README's test command, and the demo is the package's demo script, whose flags it takes.
    assert.ok(read(join(ROOT, '.ci/run')).split('\n').some((line) => line.trim() === 'npm test'), '.ci/run runs npm test');
    assert.equal(scripts.test, 'bash scripts/test.sh');
    assert.equal(scripts.demo, 'bash scripts/demo.sh');
    const demo = read(join(ROOT, 'scripts/demo.sh'));
    for (const command of commands.filter((line) => line.startsWith('npm run demo -- '))) {
      for (const flag of command.split(' -- ')[1]?.split(' ') ?? []) assert.ok(demo.includes(`${flag})`), `scripts/demo.sh takes ${flag}`);
    }
  });
});
