import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { chartPathOf, chartSvg, latencyRows, newestResults, ratioRows, type ChartResults } from '../../bench/chart.js';

const RESULTS = fileURLToPath(new URL('../../../bench/results/', import.meta.url));
// A full run (every figure measured): a later partial run (--only input, say) must not change what these tests see.
const FULL_RUN = '2026-11-27T11-13-44-102Z.json';
const newest = (): ChartResults => JSON.parse(readFileSync(`${RESULTS}${FULL_RUN}`, 'utf8')) as ChartResults;

describe('bench chart', () => {
  it('draws a full run\'s results file as an SVG naming each figure, baseline and latency run', async () => {
    const svg = await chartSvg(newest());
    assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    for (const name of ['produce', 'consume at-least-once', 'consume exactly-once', 'consume exactly-once, excl. start-up', 'kcat',
      '1,000/s, at-least-once', '1,000/s, exactly-once', '10,000/s, exactly-once', 'p99.9']) {
      assert.ok(svg.includes(`>${name}<`), `the chart names ${name}`);
    }
    assert.ok(!svg.includes('Python loop'), 'no Python figure in that file, so no Python baseline');
  });

  it('puts a Python loop beside kcat where a figure has one', async () => {
    const results = newest();
    const withPython: ChartResults = { ...results, summary: { ...results.summary, produce: { ...results.summary.produce, pythonRatio: 3.5 } } };
    const rows = ratioRows(withPython).ratios.filter((row) => row.figure === 'produce');
    assert.deepEqual(rows.map(({ baseline, ratio }) => [baseline, ratio]), [['kcat', results.summary.produce?.ratio], ['Python loop', 3.5]]);
    assert.ok((await chartSvg(withPython)).includes('>Python loop<'));
  });

  it('marks each baseline\'s own target: consume against kcat and against the Python loop (issue 18)', () => {
    const results: ChartResults = {
      summary: {
        consume: { orders: { 'exactly-once': { ratio: 0.3, pythonRatio: 2.4 } } },
        targets: { consumeExactlyOnce: { bound: 0.4 }, consumePythonExactlyOnce: { bound: 2 } },
      },
    };
    assert.deepEqual(ratioRows(results), {
      ratios: [{ figure: 'consume exactly-once', baseline: 'kcat', ratio: 0.3 }, { figure: 'consume exactly-once', baseline: 'Python loop', ratio: 2.4 }],
      targets: [{ figure: 'consume exactly-once', baseline: 'kcat', target: 0.4 }, { figure: 'consume exactly-once', baseline: 'Python loop', target: 2 }],
    });
  });

  it('draws the floor loop against kcat, and each guarantee against the floor with its own target (issue 27)', () => {
    const results: ChartResults = {
      summary: {
        consume: { floor: { ordersPerSecond: 100 }, kcat: { ordersPerSecond: 250 }, orders: { 'at-least-once': { ratio: 0.38, floorRatio: 0.96 } } },
        targets: { consumeFloorAtLeastOnce: { bound: 0.95 } },
      },
    };
    assert.deepEqual(ratioRows(results), {
      ratios: [
        { figure: 'consume, the floor loop', baseline: 'kcat', ratio: 0.4 },
        { figure: 'consume at-least-once', baseline: 'kcat', ratio: 0.38 },
        { figure: 'consume at-least-once', baseline: 'floor loop', ratio: 0.96 },
      ],
      targets: [{ figure: 'consume at-least-once', baseline: 'floor loop', target: 0.95 }],
    });
  });

  it('leaves out what was not measured (null in JSON) instead of drawing 0', () => {
    const results: ChartResults = {
      summary: {
        produce: { ratio: 0.5 },
        consume: { orders: { 'at-least-once': { ratio: null, steadyRatio: 0.25 } } },
        latency: [{ rate: 1000, guarantee: 'exactly-once', p50: 3, p99: null, p999: 9, max: 12 }],
        targets: { produce: { bound: 0.4 }, consumeAtLeastOnce: { bound: 0.5 } },
      },
    };
    assert.deepEqual(ratioRows(results), {
      ratios: [{ figure: 'produce', baseline: 'kcat', ratio: 0.5 }, { figure: 'consume at-least-once, excl. start-up', baseline: 'kcat', ratio: 0.25 }],
      targets: [{ figure: 'produce', baseline: 'kcat', target: 0.4 }],
    });
    assert.deepEqual(latencyRows(results).map(({ percentile }) => percentile), ['p50', 'p99.9', 'max']);
  });

  it('finds the newest results file by its name', () => {
    assert.match(newestResults(RESULTS), /\d{4}-\d\d-\d\dT[\d-]+Z\.json$/);
  });

  it('writes the chart beside its results file', () => {
    assert.equal(chartPathOf('bench/results/2026-11-27T11-13-44-102Z.json'), 'bench/results/2026-11-27T11-13-44-102Z.svg');
  });
});
