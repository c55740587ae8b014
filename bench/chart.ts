import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { GUARANTEES } from './settings.js';

/**
 * What the chart reads of a results file (bench/results/<time>.json, as bench/run.ts writes it).
 * JSON turns a figure that was not measured (NaN) into null, and older files lack later parts, so every
 * figure may be missing: a missing one is left out of the chart, never drawn as 0.
 * A comparison with a Python loop goes beside the kcat ratio of its figure as `pythonRatio`
 * (orders / Python): the consume figures since issue 18; the bare KafkaConsumer loop beside both as
 * `floorRatio` (orders / floor) since issue 27, which also draws the floor loop itself against kcat.
 */
export interface ChartResults {
  startedAt?: string;
  settings?: { mode?: string; orders?: number };
  machine?: { commit?: string };
  summary: {
    produce?: Compared;
    consume?: Compared & { orders?: Partial<Record<string, Compared>>; floor?: { ordersPerSecond?: Figure }; kcat?: { ordersPerSecond?: Figure } };
    latency?: { rate: number; seconds?: number; guarantee?: string; p50?: Figure; p99?: Figure; p999?: Figure; max?: Figure }[];
    targets?: Partial<Record<string, { bound?: Figure }>>;
  };
}

type Figure = number | null | undefined;
/** A figure of orders beside kcat (and maybe a Python loop): orders / baseline, higher is better. */
interface Compared {
  ratio?: Figure;
  steadyRatio?: Figure;
  pythonRatio?: Figure;
  floorRatio?: Figure;
}

export const BASELINES = { kcat: 'kcat', floor: 'floor loop', python: 'Python loop' } as const;

interface RatioRow {
  figure: string;
  baseline: string;
  ratio: number;
}

interface TargetRow {
  figure: string;
  /** The baseline the target is a ratio to: its tick marks that baseline's bar only. */
  baseline: string;
  target: number;
}

interface LatencyRow {
  run: string;
  percentile: string;
  ms: number;
}

const measured = (value: Figure): value is number => typeof value === 'number' && Number.isFinite(value);

/** The orders/baseline ratios of a results file, one row per figure and baseline that were measured. */
export function ratioRows(results: ChartResults): { ratios: RatioRow[]; targets: TargetRow[] } {
  const { produce, consume, targets } = results.summary;
  const ratios: RatioRow[] = [];
  const targetRows: TargetRow[] = [];
  const add = (figure: string, compared: Compared | undefined, targetKey?: string, pythonTargetKey?: string, floorTargetKey?: string): void => {
    const baseline = (name: string, ratio: Figure, key: string | undefined): void => {
      if (!measured(ratio)) return;
      ratios.push({ figure, baseline: name, ratio });
      const bound = key === undefined ? undefined : targets?.[key]?.bound;
      if (measured(bound)) targetRows.push({ figure, baseline: name, target: bound });
    };
    baseline(BASELINES.kcat, compared?.ratio, targetKey);
    baseline(BASELINES.floor, compared?.floorRatio, floorTargetKey);
    baseline(BASELINES.python, compared?.pythonRatio, pythonTargetKey);
  };
  const steady = (figure: string, compared: Compared | undefined): void => add(figure, { ratio: compared?.steadyRatio });
  add('produce', produce, 'produce');
  const floor = consume?.floor?.ordersPerSecond;
  const kcat = consume?.kcat?.ordersPerSecond;
  if (measured(floor) && measured(kcat)) add('consume, the floor loop', { ratio: floor / kcat });
  for (const guarantee of GUARANTEES) {
    add(`consume ${guarantee}`, consume?.orders?.[guarantee], targetKey(guarantee), pythonTargetKey(guarantee), floorTargetKey(guarantee));
  }
  for (const guarantee of GUARANTEES) steady(`consume ${guarantee}, excl. start-up`, consume?.orders?.[guarantee]);
  // Results from before the two guarantees were measured side by side: one consume figure.
  add('consume', consume);
  steady('consume, excl. start-up', consume);
  return { ratios, targets: targetRows };
}

const targetKey = (guarantee: string): string => (guarantee === 'exactly-once' ? 'consumeExactlyOnce' : 'consumeAtLeastOnce');
// Issue 18's targets against the Python loop, in the results files of their time (issue 27 retired them).
const pythonTargetKey = (guarantee: string): string => (guarantee === 'exactly-once' ? 'consumePythonExactlyOnce' : 'consumePythonAtLeastOnce');
const floorTargetKey = (guarantee: string): string => (guarantee === 'exactly-once' ? 'consumeFloorExactlyOnce' : 'consumeFloorAtLeastOnce');

const PERCENTILES = [['p50', 'p50'], ['p99', 'p99'], ['p999', 'p99.9'], ['max', 'max']] as const;

/** The end-to-end latency percentiles of each latency run, named by rate and guarantee. */
export function latencyRows(results: ChartResults): LatencyRow[] {
  return (results.summary.latency ?? []).flatMap((entry) => {
    const run = `${entry.rate.toLocaleString('en-US')}/s${entry.guarantee === undefined ? '' : `, ${entry.guarantee}`}`;
    return PERCENTILES.flatMap(([key, percentile]) => {
      const ms = entry[key];
      return measured(ms) ? [{ run, percentile, ms }] : [];
    });
  });
}

const WIDTH = 520;

/** One panel of a vertical stack. */
type Panel = Extract<TopLevelSpec, { vconcat: unknown }>['vconcat'][number];

const PERCENTILE_ORDER = PERCENTILES.map(([, name]) => name);
const FIGURE_AXIS = { field: 'figure', type: 'nominal', title: null, sort: null } as const;

/** Bars of orders / baseline per figure, a baseline a colour, each baseline's target as a black tick on its own bar. */
function ratioPanel({ ratios, targets }: ReturnType<typeof ratioRows>): Panel {
  // Only the baselines that were measured take room in a figure's band.
  const measuredBaselines = Object.values(BASELINES).filter((baseline) => ratios.some((row) => row.baseline === baseline));
  const bars = {
    y: FIGURE_AXIS,
    yOffset: { field: 'baseline', scale: { domain: measuredBaselines } },
    x: { field: 'ratio', type: 'quantitative', title: 'ratio' },
  } as const;
  return {
    title: 'orders / baseline, higher is better (black tick: target; dashed: as fast as the baseline)',
    width: WIDTH,
    layer: [
      { data: { values: ratios }, mark: 'bar', encoding: { ...bars, color: { field: 'baseline', type: 'nominal', scale: { domain: measuredBaselines }, title: 'baseline' } } },
      { data: { values: ratios }, mark: { type: 'text', align: 'left', dx: 3 }, encoding: { ...bars, text: { field: 'ratio', type: 'quantitative', format: '.2f' } } },
      { data: { values: targets }, mark: { type: 'tick', color: 'black', thickness: 2 }, encoding: { y: FIGURE_AXIS, yOffset: bars.yOffset, x: { field: 'target', type: 'quantitative' } } },
      { data: { values: [{ parity: 1 }] }, mark: { type: 'rule', strokeDash: [4, 4], color: 'gray' }, encoding: { x: { field: 'parity', type: 'quantitative' } } },
    ],
  };
}

/** Bars of p50, p99, p99.9 and max per latency run. */
function latencyPanel(latency: LatencyRow[]): Panel {
  const bars = {
    y: { field: 'run', type: 'nominal', title: null, sort: null },
    yOffset: { field: 'percentile', scale: { domain: PERCENTILE_ORDER } },
    x: { field: 'ms', type: 'quantitative', title: 'ms' },
  } as const;
  return {
    title: 'end-to-end latency per rate and guarantee, ms (median of rounds)',
    width: WIDTH,
    data: { values: latency },
    layer: [
      { mark: 'bar', encoding: { ...bars, color: { field: 'percentile', type: 'nominal', scale: { domain: PERCENTILE_ORDER, scheme: 'oranges' }, title: 'percentile' } } },
      { mark: { type: 'text', align: 'left', dx: 3 }, encoding: { ...bars, text: { field: 'ms', type: 'quantitative' } } },
    ],
  };
}

/** A Vega-Lite spec of the two panels: ratios to the baselines per figure, then latency percentiles per run. */
export function chartSpec(results: ChartResults): TopLevelSpec {
  const { settings, machine, startedAt } = results;
  const run = [settings?.mode, measured(settings?.orders) ? `${settings.orders.toLocaleString('en-US')} orders` : undefined].filter(Boolean).join(', ');
  const title = [`orders benchmark${run === '' ? '' : ` (${run})`}`, [startedAt, machine?.commit && `commit ${machine.commit}`].filter(Boolean).join(', ')]
    .filter((line) => line !== '');
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: title, anchor: 'start' },
    background: 'white',
    config: { font: 'sans-serif', axis: { labelLimit: 320 } },
    resolve: { scale: { color: 'independent', yOffset: 'independent' } },
    vconcat: [ratioPanel(ratioRows(results)), latencyPanel(latencyRows(results))],
  };
}

/** The chart of a results file as an SVG document; headless, no canvas. */
export async function chartSvg(results: ChartResults): Promise<string> {
  const view = new View(parse(compile(chartSpec(results)).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Where the chart of a results file goes: beside it, .svg for .json. */
export const chartPathOf = (resultsFile: string): string => join(dirname(resultsFile), `${basename(resultsFile, '.json')}.svg`);

/** Renders the chart of a results file beside it and returns the chart's path. */
export async function writeChart(resultsFile: string): Promise<string> {
  const file = chartPathOf(resultsFile);
  writeFileSync(file, await chartSvg(JSON.parse(readFileSync(resultsFile, 'utf8')) as ChartResults));
  return file;
}

/** The newest results file in a folder (their names are ISO times, so the last name sorts newest). */
export function newestResults(folder: string): string {
  const newest = readdirSync(folder).filter((name) => name.endsWith('.json')).sort().at(-1);
  if (newest === undefined) throw new Error(`no results file in ${folder}`);
  return join(folder, newest);
}

// `node dist/bench/chart.js [RESULTS.json]`: the chart of a results file (default: the newest), without a bench run.
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    const resultsFile = process.argv[2] ?? newestResults(fileURLToPath(new URL('../../bench/results/', import.meta.url)));
    process.stdout.write(`${await writeChart(resultsFile)}\n`);
  } catch (error) {
    process.stderr.write(`chart: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
