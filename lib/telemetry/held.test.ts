import { heldInExposition } from './held';

describe('heldInExposition', () => {
  it.each([
    // one worker serving two stages: both count
    [
      'two stages',
      '# HELP orderflow_stage_in_flight x\n# TYPE orderflow_stage_in_flight gauge\norderflow_stage_in_flight{stage="pay"} 7\norderflow_stage_in_flight{stage="reserve"} 3\n',
      10,
    ],
    // a metric whose name only starts the same is not counted
    ['similar name', 'orderflow_stage_in_flight_max{stage="pay"} 99\norderflow_stage_in_flight 2\n', 2],
    ['absent', 'orderflow_stage_processed_total{stage="pay"} 4\n', 0],
  ])('%s', (_, text, held) => {
    expect(heldInExposition(text)).toBe(held);
  });
});
