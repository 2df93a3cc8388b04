import { writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.js';
import { ALL_CELLS, DEFAULT_SEGMENT_MAP, expandCellPattern, fmScore, readSegmentMap, validateSegmentMap } from '../../../src/stages/rfm/segmentMap.js';
import { DESIGN_SEGMENTS, designSegment } from '../../designSegments.js';
import { tempDir } from '../../helpers.js';

describe('segment map', () => {
  it('the default map puts each of the 125 cells in exactly one of the 11 segments', () => {
    expect(() => validateSegmentMap(DEFAULT_SEGMENT_MAP)).not.toThrow();
    const all = [...DEFAULT_SEGMENT_MAP.values()].flat();
    expect(all).toHaveLength(125);
    expect(new Set(all)).toEqual(new Set(ALL_CELLS));
    expect([...DEFAULT_SEGMENT_MAP.keys()]).toHaveLength(11);
  });

  it('puts each of the 125 cells in the segment DESIGN §3 names for its R and FM', () => {
    const segmentOf = new Map([...DEFAULT_SEGMENT_MAP].flatMap(([segment, cells]) => cells.map((cell) => [cell, segment] as const)));
    const cells: string[] = [];
    for (let r = 1; r <= 5; r++) for (let f = 1; f <= 5; f++) for (let m = 1; m <= 5; m++) cells.push(`${r}${f}${m}`);
    expect(Object.fromEntries(cells.map((cell) => [cell, segmentOf.get(cell)]))).toEqual(
      Object.fromEntries(cells.map((cell) => [cell, designSegment(Number(cell[0]), Number(cell[1]), Number(cell[2]))])),
    );
    expect([...DEFAULT_SEGMENT_MAP.keys()]).toEqual(DESIGN_SEGMENTS);
    // A few worked by hand: FM of 4 and 3 is ⌊3.5 + 0.5⌋ = 4; of 3 and 2 is ⌊3⌋ = 3.
    expect(['443', '434', '432', '423', '352'].map((cell) => segmentOf.get(cell))).toEqual(['Loyal', 'Loyal', 'Potential Loyalist', 'Potential Loyalist', 'Loyal']);
  });

  it('rounds (F + M)/2 half up', () => {
    expect(fmScore(4, 5)).toBe(5);
    expect(fmScore(1, 2)).toBe(2);
    expect(fmScore(3, 3)).toBe(3);
    expect(DEFAULT_SEGMENT_MAP.get('Champions')).toContain('545');
    // F + M = 2 is the only way to FM = 1, so Lost is a single cell.
    expect(DEFAULT_SEGMENT_MAP.get('Lost')).toEqual(['111']);
  });

  it('expands cell patterns', () => {
    expect(expandCellPattern('5??')).toHaveLength(25);
    expect(expandCellPattern('[45][45]?')).toHaveLength(20);
    expect(expandCellPattern('555')).toEqual(['555']);
    expect(() => expandCellPattern("5' OR 1=1")).toThrow(UsageError);
    expect(() => expandCellPattern('6??')).toThrow(UsageError);
  });

  it('a user map missing or doubling cells is refused, naming them', async () => {
    const dir = await tempDir();
    const file = `${dir}/map.yaml`;
    await writeFile(file, 'Best: ["5??"]\nRest: ["[1234]??"]\n');
    expect((await readSegmentMap(file)).get('Best')).toHaveLength(25);
    await writeFile(file, 'Best: ["5??", "555"]\nRest: ["[123]??"]\n');
    await expect(readSegmentMap(file)).rejects.toThrow(/cells in no segment: 411 .*cells in more than one segment: 555 \(Best, Best\)/);
  });
});
